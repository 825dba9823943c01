using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Methods.Options;
using AdaMerging.Domain.Methods.Streaming;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Methods;

/// <summary>θ = θ0 + λ · merge(TIES(τ)): trim, elect signs, merge the agreeing entries (docs/algorithm.md, "TIES").</summary>
public sealed class TiesMethod : DataFreeMethod
{
    public static readonly NumberOption TopK = new("topK",
        "The fraction of each task vector's entries TIES keeps, by magnitude over the whole model.", Ties.DefaultTopK, 0, 1, minimumExclusive: true);

    public static readonly EnumOption<TiesMerge> MergeRule = new("tiesMerge",
        "How the agreeing entries combine: sum (the AdaMerging paper's baseline) or mean over the tasks that keep them (TIES's own).", TiesMerge.Sum);

    public override string Name => "ties";

    public override string Summary => "θ = θ0 + λ · merge(TIES(τ)): trim to the top-k fraction, elect a sign per entry, merge the agreeing entries.";

    public override IReadOnlyList<OptionSpec> Options { get; } = [TaskArithmeticMethod.Lambda, TopK, MergeRule];

    /// <summary>The output and, per tensor, the trimmed [K, len] slices (docs/algorithm.md, "TIES"): one model at most.</summary>
    protected override int WorkingCopies(int tasks) => 2;

    /// <summary>
    /// Streamed, each pass also widens the stored 16-bit values to float32 in libtorch beside the stretch: measured 0.45–0.46 GB
    /// peak on the 1b model where two copies estimated 0.39 GB (docs/performance.md, "Streamed merges"); four cover it.
    /// </summary>
    protected override int StreamedWorkingCopies(int tasks) => 4;

    protected override Dictionary<string, Tensor> Combine(MergeContext context, TaskVectors vectors, CancellationToken ct) => Apply(context.Options, vectors);

    public override StreamedMerge Streamed(MergeContext context) => StreamedApply(context.Options);

    /// <summary>TIES-merging streamed with the options' λ, top-k and merge rule.</summary>
    public static StreamedTies StreamedApply(MethodOptions options) =>
        new(TopK.In(options), MergeRule.In(options), TaskArithmeticMethod.Lambda.In(options));

    /// <summary>TIES-merging of <paramref name="vectors"/> with the options' λ, top-k and merge rule.</summary>
    public static Dictionary<string, Tensor> Apply(MethodOptions options, TaskVectors vectors) =>
        Ties.Apply(vectors, TopK.In(options), MergeRule.In(options), TaskArithmeticMethod.Lambda.In(options));
}
