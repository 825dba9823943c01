using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Methods.Options;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Methods;

/// <summary>θ = (1/K) Σk θk, computed as θ0 + Σk (1/K) τk (docs/algorithm.md, "Weight averaging").</summary>
public sealed class WeightAveragingMethod : DataFreeMethod
{
    public override string Name => "weight_averaging";

    public override string Summary => "θ = the mean of the fine-tuned models' weights.";

    public override IReadOnlyList<OptionSpec> Options { get; } = [];

    protected override Func<int, double>? UniformCoefficient(MethodOptions options) => k => 1.0 / k;

    protected override Dictionary<string, Tensor> Combine(MergeContext context, TaskVectors vectors, CancellationToken ct) =>
        vectors.Combine((_, _) => context.Scalar(1.0 / vectors.TaskCount));
}
