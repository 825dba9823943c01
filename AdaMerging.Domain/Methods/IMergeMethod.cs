using AdaMerging.Domain.Jobs;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Methods.Options;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Methods;

/// <summary>
/// A merge method: its name on the wire, its options (each with default, range and help), what it needs of the tasks,
/// and what it computes. Registered in <see cref="MergeMethods"/>; validation and the OpenAPI document follow from
/// these declarations, so adding a method is one file and one registry line (docs/algorithm.md, "Methods").
/// </summary>
public interface IMergeMethod
{
    string Name { get; }

    /// <summary>One line: what the method computes.</summary>
    string Summary { get; }

    /// <summary>Its own options; <see cref="CommonOptions"/> come with every method.</summary>
    IReadOnlyList<OptionSpec> Options { get; }

    /// <summary>
    /// The options most merges set, which a form shows first and unfolded (the rest, and the common options, folded):
    /// by default all its own, as most methods have a handful.
    /// </summary>
    IReadOnlyList<string> KeyOptions => [.. Options.Select(o => o.Name)];

    /// <summary>True when every task needs unlabeled adaptation data (AdaMerging's entropy, RegMean's Gram matrices).</summary>
    bool NeedsAdaptationData { get; }

    /// <summary>True when every task needs a head as well (AdaMerging's entropy does; RegMean's Gram matrices do not).</summary>
    bool NeedsHeads => NeedsAdaptationData;

    /// <summary>
    /// Problems only the merge's own tensors, task count and model reveal (checked before anything is queued, from
    /// headers): none for most methods.
    /// </summary>
    IEnumerable<RequestProblem> PlanProblems(MethodOptions options, MergeShape merge) => [];

    /// <summary>
    /// The run's estimated peak memory beyond the worker's own, in bytes, from headers and options (docs/algorithm.md,
    /// "Memory"): checked before a merge is queued and reported beside the measured peak. A weighted sum by default.
    /// </summary>
    long EstimatePeakBytes(MethodOptions options, RunShape run) => MemoryEstimate.DataFree(run, workingCopies: 1);

    /// <summary>The merged parameters, and what the method learned on the way.</summary>
    MergeOutcome Merge(MergeContext context, CancellationToken ct);
}

/// <summary>What a merge is over, known from headers: the merged tensors (the base's order), K, and the base's model (null when no architecture recognises it).</summary>
public sealed record MergeShape(IReadOnlyList<string> MergedTensors, int TaskCount, Architectures.ModelSpec? Model = null)
{
    /// <summary>What a layer is, for layer-wise coefficients per block: the model's blocks, or none known.</summary>
    public Func<string, int?> BlockOf => Model is { } m ? m.BlockOf : LayerMap.NoBlocks;

    /// <summary>Which tensors share another's layer-wise coefficient, as the model says.</summary>
    public Func<string, string?> SharesWith => Model is { } m ? m.SharesCoefficientWith : LayerMap.OwnRow;
}

/// <summary>The merged parameters (over the merged tensors), and for learning methods the coefficients, the objective and (AdaRank) the kept ranks.</summary>
public sealed record MergeOutcome(Dictionary<string, Tensor> Merged, IReadOnlyList<LayerCoefficients>? Coefficients = null, IReadOnlyList<double>? Objective = null,
    IReadOnlyList<KeptRank>? KeptRanks = null);
