using AdaMerging.Domain.Jobs;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Methods.Options;

namespace AdaMerging.Domain.Methods;

/// <summary>
/// RegMean (Jin et al., ICLR 2023): per linear layer (and per convolution, as the linear map of its patches), the weights that best reproduce every fine-tuned model's outputs
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

    public string Summary => "Per linear layer (a convolution as the linear map of its patches) W = (Σk Gk)⁻¹ Σk Gk Wk, Gk the Gram matrix of that layer's inputs on task k's unlabeled images; other tensors averaged.";

    public IReadOnlyList<OptionSpec> Options { get; } = [ReduceNonDiagonalRatio, Examples];

    public bool NeedsAdaptationData => true;

    /// <summary>The Gram matrices come from the images alone: no head is needed.</summary>
    public bool NeedsHeads => false;

    public IEnumerable<RequestProblem> PlanProblems(MethodOptions options, MergeShape merge)
    {
        if (merge.Model is null || merge.Model.ObservedLinearLayers(merge.MergedTensors).Count == 0)
            yield return new(RequestProblem.At("method"), RequestProblemCode.Unsupported,
                "regmean solves for the linear layers whose inputs the base's model reports; this merge has none "
                + (merge.Model is null ? "(no registered architecture recognises the base, so it cannot be run)"
                    : $"(a {merge.Model.Architecture.Name} base in layout {merge.Model.Layout} reports none of its merged tensors: an open_clip base, or every linear layer and convolution excluded)"));
    }

    /// <summary>
    /// The output and one fine-tuned model at a time beside θ0 and the vectors, the Gram matrices of the observed
    /// linear layers (one set being gathered, one set of sums) with Σ G Wᵀ, and a batch's forward without a graph.
    /// </summary>
    public long EstimatePeakBytes(MethodOptions options, RunShape run)
    {
        if (run.Model is not { } model) return MemoryEstimate.DataFree(run, workingCopies: 2);
        long forward = MemoryEstimate.Forward(model, RegMean.DefaultBatchSize);
        return Math.Max(MemoryEstimate.DataFree(run, workingCopies: 2) + model.ObservedGramBytes + forward, MemoryEstimate.Evaluation(run));
    }

    public MergeOutcome Merge(MergeContext context, CancellationToken ct)
    {
        var vectors = context.Vectors;
        ct.ThrowIfCancellationRequested();
        return context.Clock.Timed(MergePhase.Merge, () =>
        {
            using var regmean = new RegMean(vectors, ReduceNonDiagonalRatio.In(context.Options), context.InputByOutput);
            var fixedParameters = context.Tasks.FixedParameters(vectors);
            for (int k = 0; k < vectors.TaskCount; k++)
                regmean.AddTask(k, context.Model, fixedParameters, context.Tasks.AdaptationRows(k), (int)Examples.In(context.Options),
                    RegMean.DefaultBatchSize, context.Device, ct);
            return new MergeOutcome(regmean.Merged());
        });
    }
}
