using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Methods.Options;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Methods;

/// <summary>θ = θ0 + λ Σk τk (docs/algorithm.md, "Task arithmetic").</summary>
public sealed class TaskArithmeticMethod : DataFreeMethod
{
    public static readonly NumberOption Lambda = new("lambda", "The scale of the merged task vectors: θ = θ0 + λ · merge(τ).", 0.3, -10, 10);

    public override string Name => "task_arithmetic";

    public override string Summary => "θ = θ0 + λ Σk τk.";

    public override IReadOnlyList<OptionSpec> Options { get; } = [Lambda];

    protected override Func<int, double>? UniformCoefficient(MethodOptions options) => _ => Lambda.In(options);

    protected override Dictionary<string, Tensor> Combine(MergeContext context, TaskVectors vectors, CancellationToken ct) =>
        vectors.Combine((_, _) => context.Scalar(Lambda.In(context.Options)));
}
