using AdaMerging.Domain.Jobs;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Methods.Options;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Methods;

/// <summary>
/// AdaMerging (Yang et al., ICLR 2024): θ = θ0 + Σk clamp(λ, 0, 1) τk with λ learned by minimising the tasks' prediction
/// entropy on unlabeled data, per task or per layer; AdaMerging++ over TIES-processed τ (docs/algorithm.md, "AdaMerging").
/// </summary>
public sealed class AdaMergingMethod : IMergeMethod
{
    private static readonly AdaMergingSettings D = AdaMergingSettings.Defaults;

    public static readonly EnumOption<Granularity> GranularityOption = new("granularity",
        "task: one λ per task; layer: one λ per layer and task.", D.Granularity);

    public static readonly EnumOption<LayerUnit> LayerUnitOption = new("layerUnit",
        "With layer granularity, what a layer is: tensor (the paper's) or block (one transformer block).", D.LayerUnit);

    public static readonly EnumOption<AdaMergingObjective> ObjectiveOption = new("objective",
        "What λ minimises on each task's unlabeled data: entropy (the paper's: the mean entropy of the merged model's predictions, for a language model its "
        + "next-token distributions over the prompts' tokens) or expert_kl (the mean KL(expert ‖ merged) of those predictions, the expert being the task's "
        + "own fine-tuned model, recomputed each step: K more forward passes without a graph).", D.Objective);

    public static readonly BooleanOption Plus = new("plus", "AdaMerging++: learn the coefficients over TIES-processed task vectors (with topK); the same as vectors: ties.", D.Plus);

    public static readonly EnumOption<TaskVectorKind> VectorsOption = new("vectors",
        "What the coefficients scale: plain task vectors, ties (TIES-processed, with topK: AdaMerging++), or tsv (each task's part of TSV-M's orthogonalised update, with rankShare).",
        D.Vectors);

    public static readonly NumberOption InitialLambda = new("initialLambda", "Every λ's value before the first step.", D.InitialLambda, -10, 10);

    public static readonly RangeOption LambdaRange = new("lambdaRange",
        "The range [low, high] every λ is kept in: the paper's [0, 1]; a wider one (e.g. [0, 2]) lets the merge scale a task's vector past its own size.",
        D.LambdaRange, -10, 10);

    public static readonly EnumOption<LambdaBound> LambdaBoundOption = new("lambdaBound",
        "How λ stays in lambdaRange: clamp (the paper's: clamped in the forward pass, so a λ that leaves the range gets no more gradient and stays out) or "
        + "project (put back into the range after every step: a λ at a bound keeps its gradient and can come back).", D.LambdaBound);

    public static readonly NumberOption LearningRate = new("learningRate", "Adam's learning rate.", D.LearningRate, 0, 10);

    public static readonly NumberOption Beta1 = new("beta1", "Adam's β1.", D.Beta1, 0, 1, maximumExclusive: true);

    public static readonly NumberOption Beta2 = new("beta2", "Adam's β2.", D.Beta2, 0, 1, maximumExclusive: true);

    public static readonly NumberOption Epsilon = new("epsilon", "Adam's ε.", D.Epsilon, 0, 1, minimumExclusive: true, maximumExclusive: true);

    public static readonly IntegerOption Steps = new("steps", "Optimisation steps.", D.Steps, 0, 100_000);

    public static readonly IntegerOption BatchSize = new("batchSize", "Unlabeled images per task in each step.", D.BatchSize, 1, 4096);

    public static readonly IntegerOption BatchesPerStep = new("batchesPerStep",
        "Batches drawn per task in each step, their mean entropies added: 1 (the paper's description) or 2 (what the official layer-wise script does).",
        D.BatchesPerStep, 1, 64);

    public static readonly IntegerOption Seed = new("seed", "The seed of each task's batch sampling.", D.Seed, long.MinValue, long.MaxValue);

    public static readonly EnumOption<Precision> PrecisionOption = new("precision",
        "float32 (the paper's) or bfloat16: task vectors stored and the forward/backward run in bf16; λ, Adam, the final merge and the evaluation stay float32.",
        D.Precision);

    public static readonly BooleanOption Checkpointing = new("checkpointing",
        "Recompute each transformer block's activations in the backward pass instead of keeping them, and use each block's weight gradient at once: "
        + "far less memory (no model-sized gradient, one block's activations), the same λ up to float32 rounding, 1.2 to 1.5 times the step time.",
        D.Checkpointing);

    public static readonly CoefficientsOption Coefficients = new("coefficients",
        "Coefficients to merge with instead of learning them (the optimisation is skipped, evaluation still runs): one number per task, "
        + "an object of layer name → one number per task, or an earlier merge's coefficients.json. Clamped to lambdaRange as learned ones are.");

    public static readonly MergeIdOption CoefficientsFrom = new("coefficientsFrom",
        "The id of an earlier merge of yours whose learned coefficients to merge with (as coefficients, from its report).");

    public string Name => "adamerging";

    public string Summary => "θ = θ0 + Σk clamp(λ, 0, 1) τk (or another lambdaRange), λ learned by minimising prediction entropy (or the KL from each task's expert) on each task's unlabeled adaptation data.";

    /// <summary>Of its 22 own options, what a first merge sets: how coefficients are shared and how long they learn.</summary>
    public IReadOnlyList<string> KeyOptions { get; } = ["granularity", "vectors", "steps", "learningRate", "batchSize", "initialLambda"];

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        ObjectiveOption, GranularityOption, LayerUnitOption, Plus, VectorsOption, TiesMethod.TopK, TsvMethod.RankShare, InitialLambda, LambdaRange, LambdaBoundOption, LearningRate, Beta1, Beta2, Epsilon, Steps, BatchSize, BatchesPerStep, Seed, PrecisionOption,
        Checkpointing, Coefficients, CoefficientsFrom,
    ];

    public bool NeedsAdaptationData => true;

    /// <summary>
    /// The larger of the optimisation (in the chosen precision, with AdaMerging++'s processed copy of the vectors) and
    /// the evaluation; given coefficients skip the optimisation (docs/algorithm.md, "Memory").
    /// </summary>
    public long EstimatePeakBytes(MethodOptions options, RunShape run)
    {
        var settings = Settings(options);
        bool processed = settings.EffectiveVectors != TaskVectorKind.Plain;
        long evaluation = MemoryEstimate.DataFree(run, workingCopies: processed ? run.Tasks + 1 : 1, factored: !processed);
        if (Coefficients.In(options).IsGiven || CoefficientsFrom.In(options) != Guid.Empty || run.Model is not { } model) return evaluation;
        long bytes = settings.StorageType == ScalarType.Float32 ? 4 : 2;
        long optimise = MemoryEstimate.AdaMergingSteps(model, run.Parameters, run.Tasks, settings.BatchSize * settings.BatchesPerStep, settings.StorageType, settings.Checkpointing,
                vectorElements: processed ? null : run.VectorElements(factored: true), tokenScores: run.TokenScores,
                expertKl: settings.Objective == AdaMergingObjective.ExpertKl).Total
            + (processed ? run.Tasks * run.Parameters * bytes : 0);
        return Math.Max(optimise, evaluation);
    }

    public static AdaMergingSettings Settings(MethodOptions o) => new()
    {
        Objective = ObjectiveOption.In(o),
        Granularity = GranularityOption.In(o),
        LayerUnit = LayerUnitOption.In(o),
        Plus = Plus.In(o),
        Vectors = VectorsOption.In(o),
        RankShare = TsvMethod.RankShare.In(o) is > 0 and var share ? share : null,
        TopK = TiesMethod.TopK.In(o),
        InitialLambda = InitialLambda.In(o),
        LambdaRange = LambdaRange.In(o),
        LambdaBound = LambdaBoundOption.In(o),
        LearningRate = LearningRate.In(o),
        Beta1 = Beta1.In(o),
        Beta2 = Beta2.In(o),
        Epsilon = Epsilon.In(o),
        Steps = (int)Steps.In(o),
        BatchSize = (int)BatchSize.In(o),
        BatchesPerStep = (int)BatchesPerStep.In(o),
        Seed = Seed.In(o),
        Precision = PrecisionOption.In(o),
        Checkpointing = Checkpointing.In(o),
    };

    /// <summary>Given coefficients must have one value per task and name exactly the rows the granularity makes.</summary>
    public IEnumerable<RequestProblem> PlanProblems(MethodOptions options, MergeShape merge)
    {
        int taskCount = merge.TaskCount;
        var given = Coefficients.In(options);
        if (given.IsGiven && CoefficientsFrom.In(options) != Guid.Empty) yield return new(MethodOptions.At(Coefficients.Name), RequestProblemCode.Conflicting, "options: give coefficients or coefficientsFrom, not both");
        if (Plus.In(options) && VectorsOption.In(options) == TaskVectorKind.Tsv) yield return new(MethodOptions.At(Plus.Name), RequestProblemCode.Conflicting, "options: plus: true means vectors: ties; it cannot be combined with vectors: tsv");
        if (TsvMethod.RankShareProblem(options, taskCount) is { } rankShare) yield return rankShare;
        if (!given.IsGiven) yield break;
        if (given.Rows[0].Lambda.Length != taskCount)
            yield return new(MethodOptions.At(Coefficients.Name), RequestProblemCode.Invalid,
                $"options.coefficients: {given.Rows[0].Lambda.Length} value(s) per row for {taskCount} task(s)");
        var settings = Settings(options);
        var rows = LayerMap.Create(merge.MergedTensors, settings.Granularity, settings.LayerUnit, merge.BlockOf, merge.SharesWith).RowNames;
        var named = given.Rows.Select(r => r.Layer).ToHashSet(StringComparer.Ordinal);
        var missing = rows.Where(r => !named.Contains(r)).ToList();
        var unknown = given.Rows.Select(r => r.Layer).Where(l => !rows.Contains(l)).ToList();
        if (missing.Count > 0 || unknown.Count > 0)
            yield return new(MethodOptions.At(Coefficients.Name), RequestProblemCode.Invalid,
                $"options.coefficients: the rows do not match the {rows.Count} layer(s) of granularity {WireName.Of(settings.Granularity)}"
                + (settings.Granularity == Granularity.Layer ? $" ({WireName.Of(settings.LayerUnit)})" : "")
                + (missing.Count > 0 ? $"; missing: {Listed(missing)}" : "") + (unknown.Count > 0 ? $"; not a layer: {Listed(unknown)}" : ""));
    }

    private static string Listed(List<string> names) =>
        string.Join(", ", names.Take(5).Select(n => $"'{OptionSpec.Shown(n)}'")) + (names.Count > 5 ? $" and {names.Count - 5} more" : "");

    public MergeOutcome Merge(MergeContext context, CancellationToken ct)
    {
        var settings = Settings(context.Options);
        var given = Coefficients.In(context.Options);
        // LoRA adapters' vectors stay factored where the plain vectors are merged (docs/algorithm.md, "AdaMerging over LoRA adapters").
        bool factored = context.Factorable && settings.EffectiveVectors == TaskVectorKind.Plain;
        Learned? learned = null;
        // bf16 optimises on bf16 task vectors and frees them before the float32 load that merges and evaluates:
        // the peak is the larger of the two phases, never their sum.
        if (settings.StorageType != ScalarType.Float32 && !given.IsGiven)
            using (var low = factored ? context.LoadFactored(settings.StorageType) : (ITaskVectorSet)context.LoadVectors(settings.StorageType))
                learned = Learn(context, low, settings, ct);
        ct.ThrowIfCancellationRequested();
        ITaskVectorSet vectors = factored ? context.Factored : context.Vectors;
        ct.ThrowIfCancellationRequested();
        return context.Clock.Timed(MergePhase.Merge, () =>
        {
            using var processed = vectors is TaskVectors dense ? Processed(dense, settings, context.SpectralShape, ct) : null;
            var source = processed ?? vectors;
            var layers = LayerMap.Create(source.Names, settings.Granularity, settings.LayerUnit, context.BlockOf, context.SharesWith);
            learned ??= given.IsGiven ? Reused(given, layers, settings.LambdaRange) : Optimise(context, source, settings, ct);
            var c = learned.Coefficients;
            var rows = layers.RowNames.Select((name, r) => new LayerCoefficients(name,
                Enumerable.Range(0, source.TaskCount).Select(k => c[r, k]).ToList())).ToList();
            using var coefficients = tensor(c.Cast<double>().ToArray(), [c.GetLength(0), c.GetLength(1)], device: context.Device);
            return new MergeOutcome(TaskVectorSets.Merge(source, coefficients, layers), rows, learned.Objective);
        });
    }

    /// <summary>The coefficients AdaMerging learned, clamped, [rows, K], and its objective per step.</summary>
    private sealed record Learned(double[,] Coefficients, List<double> Objective);

    /// <summary>Given coefficients in the layer map's row order, clamped to the range; no objective (nothing was optimised).</summary>
    private static Learned Reused(GivenCoefficients given, LayerMap layers, (double Low, double High) range)
    {
        var byLayer = given.Rows.ToDictionary(r => r.Layer, r => r.Lambda, StringComparer.Ordinal);
        var rows = layers.RowNames.Select(name => byLayer.TryGetValue(name, out var v) ? v
            : throw new ArgumentException($"options.coefficients has no row for layer '{name}'")).ToList();
        var c = new double[rows.Count, rows[0].Length];
        for (int r = 0; r < rows.Count; r++)
            for (int k = 0; k < rows[r].Length; k++) c[r, k] = Math.Clamp(rows[r][k], range.Low, range.High);
        return new Learned(c, []);
    }

    private static Learned Learn(MergeContext context, ITaskVectorSet vectors, AdaMergingSettings settings, CancellationToken ct)
    {
        using var processed = vectors is TaskVectors dense ? Processed(dense, settings, context.SpectralShape, ct) : null;
        return Optimise(context, processed ?? vectors, settings, ct);
    }

    private static Learned Optimise(MergeContext context, ITaskVectorSet source, AdaMergingSettings settings, CancellationToken ct)
    {
        var layers = LayerMap.Create(source.Names, settings.Granularity, settings.LayerUnit, context.BlockOf, context.SharesWith);
        using var run = new AdaMergingRun(context.Model, context.Tasks.FixedParameters(source), source, layers, context.Tasks.Adaptation(),
            settings, Resumable(context.Snapshots?.Load(), layers.Rows, source.TaskCount, settings.Steps));
        SnapshottedSteps.Run(context, run.Run, run.Snapshot, ct);
        return new Learned(run.Coefficients(), [.. run.ObjectivePerStep]);
    }

    /// <summary>A saved state fits this run only if its shapes do; anything else starts afresh.</summary>
    private static AdaMergingState? Resumable(AdaMergingState? state, int rows, int tasks, int steps) =>
        state is not null && state.Lambda.Length == rows * tasks && state.FirstMoment.Length == rows * tasks && state.SecondMoment.Length == rows * tasks
            && state.Samplers.Length == tasks && state.Step <= steps && state.Objective.Count == state.Step ? state : null;

    private static TaskVectors? Processed(TaskVectors vectors, AdaMergingSettings settings, Func<string, IReadOnlyList<long>, IReadOnlyList<long>> spectralShape,
        CancellationToken ct) => settings.EffectiveVectors switch
    {
        TaskVectorKind.Ties => Ties.Process(vectors, settings.TopK),
        TaskVectorKind.Tsv => SpectralMerge.TsvComponents(vectors, settings.RankShare, ct, spectralShape),
        _ => null,
    };
}
