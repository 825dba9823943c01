using AdaMerging.Domain.Jobs;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Methods.Options;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Methods;

/// <summary>
/// AdaRank (Lee et al., "AdaRank: Adaptive Rank Pruning for Enhanced Model Merging", 2025; david3684/AdaRank):
/// which singular components of each task's update of each transformer-block matrix to keep, learned with λ per
/// tensor and task by minimising the tasks' prediction entropy on unlabeled data (docs/algorithm.md, "AdaRank").
/// </summary>
public sealed class AdaRankMethod : IMergeMethod
{
    private static readonly AdaRankSettings D = AdaRankSettings.Defaults;

    public static readonly EnumOption<AdaRankBase> BaseOption = new("base",
        "What is masked: task_arithmetic (τk added to θ0, the authors' TA), cart (τk − mean τ added to the fine-tuned models' mean, the authors' CART; "
        + "their configuration is initialLambda 2.3, initialRankRatio 0.16), tsv (each task's TSV-M part added to θ0; initialLambda 1 starts at TSV-M) "
        + "or iso_cts (each task's own Iso-CTS components and 1/K of the common subspace's added to θ0; initialLambda 1 starts at Iso-CTS).", D.Base);

    public static readonly NumberOption InitialLambda = new("initialLambda",
        "Every λ's value before the first step (the authors' prior: 0.3 with task_arithmetic, 2.3 with cart). λ is not clamped, as in the authors' code.", D.InitialLambda, -10, 10);

    public static readonly NumberOption InitialRankRatio = new("initialRankRatio",
        "The share of each matrix's top singular components every task keeps before the first step (the authors' 1.0 with task_arithmetic, 0.16 with cart).",
        D.InitialRankRatio, 0, 1, minimumExclusive: true);

    public static readonly NumberOption MaskTemperature = new("maskTemperature", "T in the mask's σ(m/T) (the authors' 10).", D.MaskTemperature, 0, 1000, minimumExclusive: true);

    public static readonly EnumOption<MaskEstimator> EstimatorOption = new("maskEstimator",
        "straight_through (the authors' default: a component is kept or dropped, 1[σ(m/T) > 0.5], the gradient through σ) or sigmoid (the authors' soft mask: weighted by σ(m/T)).",
        D.Estimator);

    public static readonly IntegerOption Steps = new("steps", "Optimisation steps (the authors' 10,000 at 16 images per task).", D.Optimiser.Steps, 0, 1_000_000);

    public string Name => "adarank";

    public string Summary => "θ = origin + Σk λk,t Uk diag(mask ⊙ s) Vkᵀ per matrix, the masks over each task's singular components and λ learned by minimising prediction entropy on unlabeled data.";

    /// <summary>What a first AdaRank sets: the merge it learns over, how long, and how many components it starts with.</summary>
    public IReadOnlyList<string> KeyOptions { get; } = ["base", "steps", "learningRate", "batchSize", "initialRankRatio"];

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        BaseOption, IsoCtsMethod.CommonSpaceFraction, InitialLambda, InitialRankRatio, MaskTemperature, EstimatorOption, Steps, AdaMergingMethod.BatchSize, AdaMergingMethod.LearningRate,
        AdaMergingMethod.Beta1, AdaMergingMethod.Beta2, AdaMergingMethod.Epsilon, AdaMergingMethod.Seed, AdaMergingMethod.Checkpointing,
    ];

    public bool NeedsAdaptationData => true;

    public static AdaRankSettings Settings(MethodOptions o) => new()
    {
        Base = BaseOption.In(o),
        CommonSpaceFraction = IsoCtsMethod.CommonSpaceFraction.In(o),
        InitialLambda = InitialLambda.In(o),
        InitialRankRatio = InitialRankRatio.In(o),
        MaskTemperature = MaskTemperature.In(o),
        Estimator = EstimatorOption.In(o),
        Optimiser = new AdaMergingSettings
        {
            Steps = (int)Steps.In(o),
            BatchSize = (int)AdaMergingMethod.BatchSize.In(o),
            LearningRate = AdaMergingMethod.LearningRate.In(o),
            Beta1 = AdaMergingMethod.Beta1.In(o),
            Beta2 = AdaMergingMethod.Beta2.In(o),
            Epsilon = AdaMergingMethod.Epsilon.In(o),
            Seed = AdaMergingMethod.Seed.In(o),
            Checkpointing = AdaMergingMethod.Checkpointing.In(o),
        },
    };

    /// <summary>
    /// AdaMerging's optimisation in float32 plus the singular factors: U and Vᵀ of each task's matrices are at most
    /// twice the vectors' elements (docs/algorithm.md, "Memory"); the evaluation's is the data-free merge's.
    /// </summary>
    public long EstimatePeakBytes(MethodOptions options, RunShape run)
    {
        var settings = Settings(options);
        long evaluation = MemoryEstimate.DataFree(run, workingCopies: 1);
        if (run.Model is not { } model) return evaluation;
        long optimise = MemoryEstimate.AdaMergingSteps(model, run.Parameters, run.Tasks, settings.Optimiser.BatchSize, ScalarType.Float32,
            settings.Optimiser.Checkpointing, tokenScores: run.TokenScores).Total + 2L * run.Tasks * run.Parameters * 4;
        return Math.Max(optimise, evaluation);
    }

    /// <summary>What the authors mask: a block's 2-D weights (attention and MLP matrices; not embeddings, norms or biases).</summary>
    public static bool IsMasked(string tensor, IReadOnlyList<long> shape, Func<string, int?> blockOf) => shape.Count == 2 && blockOf(tensor) is not null;

    /// <summary>The decomposition, the optimisation and the final merge, all timed as the merge phase (the optimisation also as its own, as AdaMerging's).</summary>
    public MergeOutcome Merge(MergeContext context, CancellationToken ct)
    {
        var settings = Settings(context.Options);
        var vectors = context.Vectors;
        ct.ThrowIfCancellationRequested();
        return context.Clock.Timed(MergePhase.Merge, () =>
        {
            using var components = RankComponents.Decompose(vectors, settings, (name, shape) => IsMasked(name, shape, context.BlockOf), ct, context.SpectralShape);
            using var run = new AdaRankRun(context.Model, context.Tasks.FixedParameters(vectors), components, context.Tasks.Adaptation(), settings, context.Device,
                Resumable(context.Snapshots?.Load(), components, settings));
            SnapshottedSteps.Run(context, run.Run, run.Snapshot, ct);
            return new MergeOutcome(run.Merged(), run.Coefficients(), [.. run.ObjectivePerStep], run.KeptRanks());
        });
    }

    /// <summary>A saved state fits only a run of the same shapes; anything else starts afresh.</summary>
    private static AdaMergingState? Resumable(AdaMergingState? state, RankComponents c, AdaRankSettings settings)
    {
        long length = (long)c.TaskCount * (c.Names.Count + c.MaskLength);
        return state is not null && state.Lambda.Length == length && state.FirstMoment.Length == length && state.SecondMoment.Length == length
            && state.Samplers.Length == c.TaskCount && state.Step <= settings.Optimiser.Steps && state.Objective.Count == state.Step ? state : null;
    }
}
