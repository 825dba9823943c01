using AdaMerging.Domain.Jobs;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Methods.Options;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Methods;

/// <summary>
/// TSV-M, Task Singular Vectors merging (Gargiulo et al., CVPR 2025): per weight matrix, each task's top singular
/// components in its own share of the rank, the stacked singular vectors orthogonalised (docs/algorithm.md, "TSV-M,
/// Iso-C and Iso-CTS").
/// </summary>
public sealed class TsvMethod : DataFreeMethod, IMergeMethod
{
    /// <summary>The scale of TSV-M's, Iso-C's and Iso-CTS's merged update (their authors' and FusionBench's default 1.0).</summary>
    public static readonly NumberOption Alpha = new("alpha", "The scale of the merged update: θ = θ0 + α · merge(τ) (the authors' default 1.0).", 1.0, -10, 10);

    public static readonly NumberOption RankShare = new("rankShare",
        "The fraction of each matrix's rank every task keeps (its top singular components); 0 means 1/K, the authors' default. At most 1/K.",
        0, 0, 1);

    public override string Name => "tsv";

    public override string Summary => "θ = θ0 + α · TSV-M(τ): each task's top singular components per matrix, orthogonalised together; other tensors averaged.";

    protected override bool NeedsWholeTensors => true;

    public override IReadOnlyList<OptionSpec> Options { get; } = [Alpha, RankShare];

    public IEnumerable<RequestProblem> PlanProblems(MethodOptions options, MergeShape merge) =>
        RankShareProblem(options, merge.TaskCount) is { } problem ? [problem] : [];

    /// <summary>Every task's share of the rank must fit beside the others': at most 1/K.</summary>
    public static RequestProblem? RankShareProblem(MethodOptions options, int taskCount)
    {
        double share = RankShare.In(options);
        return share * taskCount > 1 + 1e-12
            ? new(MethodOptions.At(RankShare.Name), RequestProblemCode.Invalid,
                $"options.rankShare: {share} for {taskCount} tasks is over the whole rank; at most 1/{taskCount} = {1.0 / taskCount:0.####}")
            : null;
    }

    protected override Dictionary<string, Tensor> Combine(MergeContext context, TaskVectors vectors, CancellationToken ct)
    {
        double share = RankShare.In(context.Options);
        return SpectralMerge.Apply(vectors, (name, taus) => SpectralMerge.Tsv(name, taus, share > 0 ? share : null), Alpha.In(context.Options), ct, context.SpectralShape);
    }
}
