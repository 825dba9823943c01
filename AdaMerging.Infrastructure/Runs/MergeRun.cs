using AdaMerging.Domain.Jobs;
using AdaMerging.Domain.Architectures;
using System.Text.Json;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Heads;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Merging.Streaming;
using AdaMerging.Domain.Methods;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Methods.Streaming;
using AdaMerging.Infrastructure.Reports;
using static TorchSharp.torch;

namespace AdaMerging.Infrastructure.Runs;

/// <summary>
/// One merge from its plan to a finished folder, the same for the queued job and the worker's `run`: open the inputs,
/// check they fit, let the method compute (docs/algorithm.md), evaluate, write the merged model, the report's
/// artifacts, the model card (README.md) and, last and once, report.json listing every file. Phases are reported and timed as they begin.
/// </summary>
public static class MergeRun
{
    public const string ReportFileName = "report.json";

    public static readonly JsonSerializerOptions ReportJson = new(JsonSerializerOptions.Web) { WriteIndented = true };

    /// <param name="memoryLimit">The configured limit on a merge's estimated peak (0: none; the device's own memory still is one where it can be known).</param>
    /// <param name="streamWorkingBytes">A data-free merge with nothing to evaluate is streamed in stretches of this much working memory (docs/algorithm.md, "Streamed merges"); 0: in memory.</param>
    /// <param name="baselines">Where the baseline columns' scores are remembered between merges (<see cref="BaselineScoreFiles"/>); null: always evaluated.</param>
    public static MergeReport Execute(MergePlan plan, Device device, string outputDirectory, Action<MergeProgress>? progress = null,
        IRunSnapshots? snapshots = null, long memoryLimit = 0, long streamWorkingBytes = StreamedMergeWriter.DefaultWorkingBytes, string? baselines = null,
        CancellationToken ct = default)
    {
        using var clock = new PhaseClock(progress);
        using var digests = RunRecords.WatchDigests(plan);   // before the folders open: their reads give the record's digests
        using var baseFolder = ModelFolder.Open(plan.BaseFiles);
        var taskFolders = new List<ModelFolder>();
        try
        {
            foreach (var t in plan.Tasks) taskFolders.Add(ModelFolder.Open(t.CheckpointFiles));
            var (weights, dropped) = TaskWeights.Read(plan.Options, [.. plan.Tasks.Select(t => t.Name)], taskFolders, baseFolder);
            var differences = weights.SelectMany((w, k) => CheckpointCompatibility.Differences(baseFolder.Weights, $"task '{plan.Tasks[k].Name}'", w, baseFolder.Spec)).ToList();
            if (CheckpointCompatibility.NothingShared(baseFolder.Weights, weights) is { } nothing) differences.Add(nothing);
            if (CheckpointCompatibility.BaseProblem(baseFolder) is { } notAModel) differences.Insert(0, notAModel);
            if (differences.Count > 0) throw new IncompatibleCheckpointsException(differences);
            bool languageModelling = TaskInputs.AreLanguageModelling(plan.Tasks);
            bool evaluates = plan.Tasks.Where((t, k) => t.EvaluationPath is not null
                && (languageModelling || t.HeadPath is not null || CheckpointHeads.Info(baseFolder.Spec, weights[k]) is not null)).Any();
            var streams = streamWorkingBytes > 0
                ? StreamedMergeWriter.Applies(plan.Method, evaluates || plan.Tasks.Any(t => t.AdaptationPath is not null), baseFolder) : null;
            var shape = RunMemory.Shape(plan.Options, baseFolder.Spec, baseFolder.Weights, weights, evaluates, streams is null ? 0 : streamWorkingBytes, languageModelling);
            long estimate = RunMemory.Estimate(plan.Method, plan.Options, shape);
            var (limit, limitName) = memoryLimit > 0 ? (memoryLimit, "MergeMemoryLimitBytes")
                : DeviceMemory.Total(device) is { } total ? (total, $"the memory of {device}") : (0L, "");
            if (MemoryLimit.Problem(estimate, limit, limitName) is { } tooBig) throw new DeviceMemoryExceededException(tooBig.Detail, estimate, limit);
            var exclude = CommonOptions.Excluded(plan.Options, baseFolder.Spec);
            var mergedNames = TaskVectors.MergedNames(baseFolder.Weights, weights, exclude);
            var planProblems = plan.Method.PlanProblems(plan.Options, new MergeShape(mergedNames, plan.Tasks.Count, baseFolder.Spec)).ToList();
            if (planProblems.Count > 0) throw new ArgumentException(string.Join("; ", planProblems));
            using var tasks = new TaskInputs(plan.Tasks, plan.Method.NeedsAdaptationData, baseFolder, device, ScratchOf(outputDirectory), weights,
                CommonOptions.SequenceLength(plan.Options, baseFolder.Spec));
            bool recompute = BatchNormRecompute.Applies(plan.Options, baseFolder.Spec, tasks, baseFolder.Weights, weights);
            using var model = tasks.NeedsModel || recompute ? Runnable(baseFolder, tasks.LanguageModelling) : null;
            using var context = new MergeContext(plan.Options, device, dtype => TaskVectors.Load(baseFolder.Weights, weights, exclude, dtype, device, ct),
                clock, model, tasks, snapshots, baseFolder.Spec, FactoredTaskVectors.Applies(weights)
                    ? dtype => FactoredTaskVectors.Load(baseFolder.Weights, weights, mergedNames, dtype, device, ct) : null);
            var names = plan.Tasks.Select(t => t.Name).ToList();
            // Taken once, when it is first needed (the baselines' keys or the report), from the digests of the run's own reads.
            var record = new Lazy<RunRecord>(() => RunRecords.For(plan, device, digests));
            long shardBytes = CommonOptions.ShardBytes.In(plan.Options);
            var (files, scores, outcome) = streams is not null
                ? (Streamed(streams.Streamed(context), clock, outputDirectory, baseFolder, weights, mergedNames, streamWorkingBytes, shardBytes, ct), new TaskScores([], []), new MergeOutcome([]))
                : InMemory(plan, context, model, tasks, recompute, outputDirectory, baseFolder, names, shardBytes,
                    baselines is null ? null : new BaselineCache(new BaselineScoreFiles(baselines), BaselineScoreFiles.KeysFor(plan, record.Value)), ct);
            var accuracy = scores.Accuracy;
            ct.ThrowIfCancellationRequested();
            LoraOutput? lora = null;
            if (CommonOptions.Output.In(plan.Options) == MergeOutput.Lora)
                (files, lora) = clock.Timed(MergePhase.Write, () => AsLora(outputDirectory, files, baseFolder, plan, ct));
            int merged = mergedNames.Count;
            var report = new MergeReport(plan.Method.Name, plan.Options.Wire(plan.Method), names, accuracy, MergeEvaluation.Average(accuracy),
                outcome.Coefficients, outcome.Objective ?? [], new Dictionary<string, double>(clock.Seconds), files,
                merged, baseFolder.Weights.Tensors.Count - merged, record.Value, Memory(estimate, clock, device),
                dropped.Count == 0 ? null : dropped, lora,
                scores.Completions.Count == 0 ? null : scores.Completions, CompletionEvaluation.Average(scores.Completions), outcome.KeptRanks);
            report = report with { Files = [.. files, ReportFileName, .. ReportArtifacts.Write(outputDirectory, report)] };
            report = report with { Files = [.. report.Files, ModelCard.Write(outputDirectory, report, plan, baseFolder.Spec?.TransformersClass(baseFolder), taskFolders.Any(f => f.Adapter is not null))] };
            File.WriteAllText(Path.Combine(outputDirectory, ReportFileName), JsonSerializer.Serialize(report, ReportJson));
            return report;
        }
        finally
        {
            taskFolders.ForEach(f => f.Dispose());
            if (Directory.Exists(ScratchOf(outputDirectory))) Directory.Delete(ScratchOf(outputDirectory), recursive: true);
        }
    }

    /// <summary>The merge streamed into the folder (its passes before the merging one timed as the merge, the merging pass as the write); nothing stays when it fails.</summary>
    private static IReadOnlyList<string> Streamed(StreamedMerge merge, PhaseClock clock, string outputDirectory, ModelFolder baseFolder,
        IReadOnlyList<Domain.Tensors.ITensorSource> weights, IReadOnlyList<string> mergedNames, long workingBytes, long shardBytes, CancellationToken ct)
    {
        try
        {
            using var streamed = StreamedMergeWriter.Open(baseFolder, weights, mergedNames, merge, workingBytes, ct);
            clock.Timed(MergePhase.Merge, () => { streamed.RunPasses(); return 0; });
            return clock.Timed(MergePhase.Write, () => streamed.WriteFolder(outputDirectory, baseFolder, shardBytes));
        }
        catch
        {
            EmptyDirectory(outputDirectory);
            throw;
        }
    }

    /// <summary>The evaluation's tables: classifiers' accuracies, or language-model tasks' completion scores.</summary>
    private sealed record TaskScores(List<TaskAccuracy> Accuracy, List<TaskCompletions> Completions);

    /// <summary>The merge in memory, written, then evaluated; what was written is removed when the evaluation fails.</summary>
    private static (IReadOnlyList<string> Files, TaskScores Scores, MergeOutcome Outcome) InMemory(MergePlan plan, MergeContext context, IModel? model,
        TaskInputs tasks, bool recompute, string outputDirectory, ModelFolder baseFolder, List<string> names, long shardBytes, BaselineCache? cache,
        CancellationToken ct)
    {
        var outcome = plan.Method.Merge(context, ct);
        if (recompute) context.Clock.Timed(MergePhase.Merge, () => BatchNormRecompute.Run(model!, context, outcome.Merged, ct));
        try
        {
            ct.ThrowIfCancellationRequested();
            var files = context.Clock.Timed(MergePhase.Write, () => MergedModelWriter.Write(outputDirectory, baseFolder, outcome.Merged, shardBytes, ct));
            // Evaluation last: it releases the merged model after its own column, so one model at a time exists beside the vectors.
            int batch = (int)CommonOptions.EvaluationBatchSize.In(plan.Options);
            double ta = TaskArithmeticMethod.Lambda.DefaultValue;
            var scores = model is null || !tasks.HasEvaluation ? new TaskScores([], [])
                : context.Clock.Timed(MergePhase.Evaluate, () => tasks.LanguageModelling
                    ? new TaskScores([], CompletionEvaluation.Evaluate(context.EvaluationVectors, model, tasks, names, outcome.Merged, ta, batch, cache, ct))
                    : new TaskScores(MergeEvaluation.Evaluate(context.EvaluationVectors, model, tasks, names, outcome.Merged, ta, batch, cache, ct), []));
            return (files, scores, outcome);
        }
        catch
        {
            EmptyDirectory(outputDirectory);   // written before a failed or cancelled evaluation: nothing half-done stays
            throw;
        }
        finally
        {
            ModelParameters.Dispose(outcome.Merged);
        }
    }

    /// <summary>
    /// The merged model written as a PEFT LoRA adapter over the base (<see cref="LoraExtraction"/>), then its full
    /// weights and config.json removed: the folder's files are the adapter's and the base's side files.
    /// </summary>
    private static (IReadOnlyList<string> Files, LoraOutput Lora) AsLora(string outputDirectory, IReadOnlyList<string> files, ModelFolder baseFolder,
        MergePlan plan, CancellationToken ct)
    {
        var weights = files.Where(f => ModelFolder.Classify(f).Role is CheckpointFileRole.Weights or CheckpointFileRole.Config).ToList();
        LoraOutput lora;
        using (var merged = ModelFolder.Open(weights.ToDictionary(f => f, f => Path.Combine(outputDirectory, f))))
        using (var theta0 = baseFolder.View())
            lora = LoraExtraction.Write(outputDirectory, merged.Weights, theta0, CommonOptions.LoraRank.In(plan.Options), plan.BaseName,
                baseFolder.Spec is { } spec ? spec.LinearWeightIsInputByOutput : _ => false, ct);
        foreach (var f in weights) File.Delete(Path.Combine(outputDirectory, f));
        return ([Domain.Checkpoints.Lora.LoraConfig.FileName, LoraExtraction.WeightsFileName, .. files.Except(weights)], lora);
    }

    /// <summary>The base's model (as a language model for prompt data), for methods that learn from data and for evaluation; a base no architecture recognises cannot be run.</summary>
    private static IModel Runnable(ModelFolder baseFolder, bool languageModel) =>
        (languageModel ? baseFolder.Spec?.CreateLanguageModel(baseFolder.Weights) : baseFolder.Spec?.CreateModel(baseFolder.Weights))
        ?? throw new CheckpointFormatException($"the base checkpoint is not of an architecture this service can run ({ModelArchitectures.Described()}), "
            + "so nothing that needs its forward pass (adaptation data, evaluation) can be done; data-free methods without evaluation data merge it");

    private static MemoryUsage Memory(long estimate, PhaseClock clock, Device device)
    {
        var phases = clock.PeakBytes;
        return new MemoryUsage(estimate, phases.Count == 0 ? 0 : phases.Values.Max(), phases,
            device.type == TorchSharp.DeviceType.CPU ? "process resident memory (RSS)" : "host process resident memory (RSS); the GPU's memory is not measured");
    }

    private static void EmptyDirectory(string directory)
    {
        if (!Directory.Exists(directory)) return;
        foreach (var file in Directory.GetFiles(directory)) File.Delete(file);
        foreach (var folder in Directory.GetDirectories(directory)) Directory.Delete(folder, recursive: true);
    }

    /// <summary>Decoded image archives for the run: beside its output, under the same temporary name, never published.</summary>
    private static string ScratchOf(string outputDirectory) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(outputDirectory)) + ".scratch";
}
