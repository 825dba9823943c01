using System.Diagnostics;
using System.Text.Json;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Jobs;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Tensors;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Merging;

/// <summary>
/// Runs a merge plan end to end: load θ0 and the task vectors, merge by the chosen method, evaluate (merged, base,
/// each individual model, task arithmetic at 0.3), write the merged model folder and the report.
/// </summary>
public sealed class MergeExecutor(MergePlan plan, Device device, Action<MergeProgress>? progress = null, IRunSnapshots? snapshots = null)
{
    private const ScalarType Compute = ScalarType.Float32;
    private readonly Dictionary<string, double> _phases = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public MergeReport Run(string outputDirectory, CancellationToken ct = default)
    {
        using var baseFolder = ModelFolder.Open(plan.BaseFiles);
        var taskFolders = new List<ModelFolder>();
        try
        {
            foreach (var t in plan.Tasks) taskFolders.Add(ModelFolder.Open(t.CheckpointFiles));
            var differences = taskFolders.SelectMany((f, k) => CheckpointCompatibility.Differences(baseFolder.Weights, $"task '{plan.Tasks[k].Name}'", f.Weights)).ToList();
            if (differences.Count > 0) throw new IncompatibleCheckpointsException(differences);
            using var tasks = new TaskInputs(plan, baseFolder, device);
            using var model = tasks.NeedsModel ? new ClipModel(baseFolder) : null;
            var settings = plan.Options.ToAdaMerging();
            TaskVectors Load(ScalarType dtype) => Timed("load", () => TaskVectors.Load(baseFolder.Weights,
                taskFolders.Select(f => f.Weights).ToList(), plan.Options.Exclude ?? [], dtype, device, ct));
            // bf16 optimises on bf16 task vectors, frees them, then merges and evaluates from float32 ones: the peak
            // is the larger of the two phases, never their sum.
            Learned? learned = null;
            if (plan.Method == MergeRequest.AdaMerging && settings.StorageType != Compute)
                using (var low = Load(settings.StorageType))
                    learned = Learn(low, model!, tasks, settings, ct);
            ct.ThrowIfCancellationRequested();
            using var vectors = Load(Compute);
            ct.ThrowIfCancellationRequested();
            var (merged, coefficients, objective) = Merge(vectors, model, tasks, learned, ct);
            ct.ThrowIfCancellationRequested();
            var accuracy = model is null || !tasks.HasEvaluation ? [] : Timed("evaluate", () => Evaluate(vectors, model, tasks, merged, ct));
            var files = Timed("write", () => MergedModelWriter.Write(outputDirectory, baseFolder, merged, plan.Options.ShardBytesOrDefault, ct));
            ModelParameters.Dispose(merged);
            var report = new MergeReport(plan.Method, plan.Options, plan.Tasks.Select(t => t.Name).ToList(), accuracy, Average(accuracy),
                coefficients, objective, _phases, [.. files, "report.json"]);
            File.WriteAllText(Path.Combine(outputDirectory, "report.json"), JsonSerializer.Serialize(report, ReportJson));
            return report;
        }
        finally
        {
            taskFolders.ForEach(f => f.Dispose());
        }
    }

    public static readonly JsonSerializerOptions ReportJson = new(JsonSerializerOptions.Web) { WriteIndented = true };

    private (Dictionary<string, Tensor> Merged, List<LayerCoefficients>? Coefficients, List<double> Objective) Merge(
        TaskVectors vectors, ClipModel? model, TaskInputs tasks, Learned? learned, CancellationToken ct)
    {
        var o = plan.Options;
        Report("merge");
        var clock = Stopwatch.StartNew();
        try
        {
            if (plan.Method == MergeRequest.AdaMerging) return AdaMerge(vectors, model!, tasks, learned, ct);
            using var _ = no_grad();
            switch (plan.Method)
            {
                case MergeRequest.WeightAveraging:
                    return (vectors.Combine((_, _) => tensor(1.0 / vectors.TaskCount, dtype: Compute, device: device)), null, []);
                case MergeRequest.TaskArithmetic:
                    return (vectors.Combine((_, _) => tensor(o.LambdaOrDefault, dtype: Compute, device: device)), null, []);
                case MergeRequest.TiesMerging:
                    return (Ties.Apply(vectors, o.TopKOrDefault, o.TiesMergeOrDefault, o.LambdaOrDefault), null, []);
                case MergeRequest.Dare:
                    using (var dropped = Dare.Apply(vectors, o.DropRateOrDefault, o.ToAdaMerging().Seed))
                        return (o.DareBaseOrDefault == "ties"
                            ? Ties.Apply(dropped, o.TopKOrDefault, o.TiesMergeOrDefault, o.LambdaOrDefault)
                            : dropped.Combine((_, _) => tensor(o.LambdaOrDefault, dtype: Compute, device: device)), null, []);
                default:
                    throw new ArgumentException($"method '{plan.Method}' is unknown");
            }
        }
        finally
        {
            _phases["merge"] = clock.Elapsed.TotalSeconds;
        }
    }

    /// <summary>The coefficients AdaMerging learned, clamped, [rows, K], and its objective per step.</summary>
    private sealed record Learned(double[,] Coefficients, List<double> Objective);

    private (Dictionary<string, Tensor>, List<LayerCoefficients>, List<double>) AdaMerge(TaskVectors vectors, ClipModel model, TaskInputs tasks,
        Learned? learned, CancellationToken ct)
    {
        var settings = plan.Options.ToAdaMerging();
        using var processed = Processed(vectors, settings);
        var source = processed ?? vectors;
        learned ??= Optimise(source, model, tasks, settings, ct);
        var layers = LayerMap.Create(source.Names, settings.Granularity, settings.LayerUnit);
        var c = learned.Coefficients;
        var rows = layers.RowNames.Select((name, r) => new LayerCoefficients(name,
            Enumerable.Range(0, source.TaskCount).Select(k => c[r, k]).ToList())).ToList();
        using var coefficients = tensor(c.Cast<double>().ToArray(), [c.GetLength(0), c.GetLength(1)], device: device);
        return (source.Merge(coefficients, layers), rows, learned.Objective);
    }

    /// <summary>Runs the optimisation on <paramref name="vectors"/> (TIES-processed first for AdaMerging++).</summary>
    private Learned Learn(TaskVectors vectors, ClipModel model, TaskInputs tasks, AdaMergingSettings settings, CancellationToken ct)
    {
        using var processed = Processed(vectors, settings);
        return Optimise(processed ?? vectors, model, tasks, settings, ct);
    }

    private Learned Optimise(TaskVectors source, ClipModel model, TaskInputs tasks, AdaMergingSettings settings, CancellationToken ct)
    {
        var layers = LayerMap.Create(source.Names, settings.Granularity, settings.LayerUnit);
        var clock = Stopwatch.StartNew();
        using var run = new AdaMergingRun(model.Features, tasks.FixedParameters(source), source, layers, tasks.Adaptation(), settings,
            Resumable(snapshots?.Load(), layers.Rows, source.TaskCount, settings.Steps));
        var saved = Stopwatch.StartNew();
        try
        {
            run.Run(p =>
            {
                progress?.Invoke(new MergeProgress("optimise", p.Step, p.TotalSteps, p.Objective, _clock.Elapsed));
                if (snapshots is null || saved.Elapsed < snapshots.Interval) return;
                snapshots.Save(run.Snapshot());
                saved.Restart();
            }, ct);
        }
        catch (OperationCanceledException) when (snapshots is not null)
        {
            snapshots.Save(run.Snapshot()); // a graceful stop keeps every finished step for the next attempt
            throw;
        }
        _phases["optimise"] = clock.Elapsed.TotalSeconds;
        return new Learned(run.Coefficients(), [.. run.ObjectivePerStep]);
    }

    /// <summary>A saved state fits this run only if its shapes do; anything else starts afresh.</summary>
    private static AdaMergingState? Resumable(AdaMergingState? state, int rows, int tasks, int steps) =>
        state is not null && state.Lambda.Length == rows * tasks && state.FirstMoment.Length == rows * tasks && state.SecondMoment.Length == rows * tasks
            && state.Samplers.Length == tasks && state.Step <= steps && state.Objective.Count == state.Step ? state : null;

    private static TaskVectors? Processed(TaskVectors vectors, AdaMergingSettings settings) =>
        settings.Plus ? Ties.Process(vectors, settings.TopK) : null;

    private List<TaskAccuracy> Evaluate(TaskVectors vectors, ClipModel model, TaskInputs tasks, Dictionary<string, Tensor> merged, CancellationToken ct)
    {
        Report("evaluate");
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var fixedParameters = tasks.FixedParameters(vectors);
        Dictionary<string, Tensor> With(Dictionary<string, Tensor> p) =>
            p.Concat(fixedParameters.Where(f => !p.ContainsKey(f.Key))).ToDictionary(StringComparer.Ordinal);
        Tensor Scalar(double v) => tensor(v, dtype: Compute, device: device);
        var withMerged = With(merged);
        var withBase = With(vectors.Theta0);
        var ta = With(vectors.Combine((_, _) => Scalar(MergeOptions.DefaultLambda)));
        var result = new List<TaskAccuracy>();
        int batch = plan.Options.EvaluationBatchSizeOrDefault;
        for (int k = 0; k < plan.Tasks.Count; k++)
        {
            if (tasks.Evaluation(k) is not var (pixels, labels, head)) continue;
            using var perTask = NewDisposeScope();
            var individual = With(vectors.Combine((_, j) => Scalar(j == k ? 1.0 : 0.0)));
            result.Add(new TaskAccuracy(plan.Tasks[k].Name,
                Evaluation.Accuracy(model, withMerged, head, pixels, labels, batch, ct),
                Evaluation.Accuracy(model, withBase, head, pixels, labels, batch, ct),
                Evaluation.Accuracy(model, individual, head, pixels, labels, batch, ct),
                Evaluation.Accuracy(model, ta, head, pixels, labels, batch, ct)));
        }
        return result;
    }

    private static TaskAccuracy? Average(List<TaskAccuracy> rows) => rows.Count == 0 ? null : new TaskAccuracy("average",
        rows.Average(r => r.Merged), rows.Average(r => r.Base), rows.Average(r => r.Individual), rows.Average(r => r.TaskArithmetic));

    private T Timed<T>(string phase, Func<T> work)
    {
        Report(phase);
        var clock = Stopwatch.StartNew();
        try
        {
            return work();
        }
        finally
        {
            _phases[phase] = _phases.GetValueOrDefault(phase) + clock.Elapsed.TotalSeconds;
        }
    }

    private void Report(string phase) => progress?.Invoke(new MergeProgress(phase, 0, 0, null, _clock.Elapsed));
}
