using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Methods.Options;

namespace AdaMerging.Domain.Methods;

/// <summary>
/// RegMean (Jin et al., ICLR 2023): per linear layer, the weights that best reproduce every fine-tuned model's outputs
/// on its own task's inputs, from Gram matrices of those inputs; other tensors averaged (docs/algorithm.md, "RegMean").
/// </summary>
public sealed class RegMeanMethod : IMergeMethod
{
    public static readonly NumberOption ReduceNonDiagonalRatio = new("reduceNonDiagonalRatio",
        "RegMean's α: the Gram matrices' off-diagonal entries are multiplied by it (the authors' 0.9; 1 keeps them, 0 leaves the diagonal only).",
        RegMean.DefaultAlpha, 0, 1);

    public static readonly IntegerOption Examples = new("regmeanExamples",
        "How many of each task's adaptation images its Gram matrices are computed from (the first ones, in order).", RegMean.DefaultExamples, 1, 100_000);

    public string Name => "regmean";

    public string Summary => "Per linear layer W = (Σk Gk)⁻¹ Σk Gk Wk, Gk the Gram matrix of that layer's inputs on task k's unlabeled images; other tensors averaged.";

    public IReadOnlyList<OptionSpec> Options { get; } = [ReduceNonDiagonalRatio, Examples];

    public bool NeedsAdaptationData => true;

    /// <summary>The Gram matrices come from the images alone: no head is needed.</summary>
    public bool NeedsHeads => false;

    public IEnumerable<string> PlanProblems(MethodOptions options, IReadOnlyList<string> mergedTensors, int taskCount)
    {
        if (!mergedTensors.Any(n => n.EndsWith("self_attn.q_proj.weight", StringComparison.Ordinal)))
            yield return "regmean merges the linear layers of Hugging Face-layout CLIP vision checkpoints (…self_attn.q_proj.weight); "
                + "this merge has none (an open_clip base, or every linear layer excluded)";
    }

    /// <summary>
    /// The output and one fine-tuned model at a time beside θ0 and the vectors, and per block the Gram matrices of its
    /// six linear layers (one set being gathered, one set of sums) with Σ G Wᵀ, and a batch's forward without a graph.
    /// </summary>
    public long EstimatePeakBytes(MethodOptions options, RunShape run)
    {
        if (run.Config is not { } c) return MemoryEstimate.DataFree(run, workingCopies: 2);
        long d = c.HiddenSize, i = c.IntermediateSize, layers = c.NumHiddenLayers;
        long grams = layers * (2 * (5 * d * d + i * i) + 4 * d * d + 2 * d * i) * 4;
        long forward = RegMean.DefaultBatchSize * (MemoryEstimate.Tokens(c) * (2 * d + i) * 4 + (long)c.NumChannels * c.ImageSize * c.ImageSize * 4);
        return Math.Max(MemoryEstimate.DataFree(run, workingCopies: 2) + grams + forward, MemoryEstimate.Evaluation(run));
    }

    public MergeOutcome Merge(MergeContext context, CancellationToken ct)
    {
        var vectors = context.Vectors;
        ct.ThrowIfCancellationRequested();
        return context.Clock.Timed("merge", () =>
        {
            using var regmean = new RegMean(vectors, ReduceNonDiagonalRatio.In(context.Options));
            var fixedParameters = context.Tasks.FixedParameters(vectors);
            for (int k = 0; k < vectors.TaskCount; k++)
                regmean.AddTask(k, context.Model.Encoder.Config, fixedParameters, context.Tasks.AdaptationRows(k), (int)Examples.In(context.Options),
                    RegMean.DefaultBatchSize, context.Device, ct);
            return new MergeOutcome(regmean.Merged());
        });
    }
}
