using AdaMerging.Domain.Architectures.Clip;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AdaMerging.Domain.Methods;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Tensors;
using static TorchSharp.torch;

namespace AdaMerging.Benchmark;

/// <summary>One row of the table: a method and its options (unset options take their declared defaults, docs/algorithm.md).</summary>
public sealed record MethodRun(string Label, string Method, JsonObject Options);

/// <summary>The benchmark's tasks uploaded to the service: ids of the base, and per task its checkpoint, head and data.</summary>
public sealed record UploadedBenchmark(string Base, IReadOnlyList<UploadedTask> Tasks);

/// <summary>A task's uploads; no head where its checkpoint carries its classifier (the ResNet benchmark's fc).</summary>
public sealed record UploadedTask(string Name, string Checkpoint, string? Head, string Dataset);

/// <summary>
/// Runs every method through the real service (HTTP API, queue, worker) on a built benchmark and prints the paper's
/// table: rows pre-trained, individual and each method; columns the tasks and their average.
/// </summary>
public sealed class ServiceBenchmark(ServiceClient client, string benchmark, TextWriter output)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    /// <summary>Every method of the table; each takes those of the <paramref name="common"/> options it has (steps, seed).</summary>
    public static IReadOnlyList<MethodRun> AllMethods(JsonObject common) =>
    [
        Run("weight averaging", "weight_averaging", common),
        Run("task arithmetic", "task_arithmetic", common),
        Run("TIES-merging", "ties", common),
        Run("DARE (+ task arithmetic)", "dare", common),
        Run("task-wise AdaMerging", "adamerging", common, ("granularity", "task")),
        Run("task-wise AdaMerging++", "adamerging", common, ("granularity", "task"), ("plus", true)),
        Run("layer-wise AdaMerging", "adamerging", common, ("granularity", "layer")),
        Run("layer-wise AdaMerging++", "adamerging", common, ("granularity", "layer"), ("plus", true)),
        Run("TSV-M", "tsv", common),
        Run("Iso-C", "iso_c", common),
        Run("Iso-CTS", "iso_cts", common),
        Run("RegMean", "regmean", common),
        // Over TSV-M's parts the coefficients start at 1, TSV-M's own point (docs/algorithm.md, "AdaMerging over TSV-M's parts").
        Run("task-wise AdaMerging over TSV-M parts", "adamerging", common, ("granularity", "task"), ("vectors", "tsv"), ("initialLambda", 1.0)),
        Run("layer-wise AdaMerging over TSV-M parts", "adamerging", common, ("granularity", "layer"), ("vectors", "tsv"), ("initialLambda", 1.0)),
        // Started inside [0, 1], where a step past the clamp's edge is not yet the end of learning (docs/reproduction.md).
        Run("task-wise AdaMerging over TSV-M parts from λ 0.9", "adamerging", common, ("granularity", "task"), ("vectors", "tsv"), ("initialLambda", 0.9)),
        Run("layer-wise AdaMerging over TSV-M parts from λ 0.9", "adamerging", common, ("granularity", "layer"), ("vectors", "tsv"), ("initialLambda", 0.9)),
        // Issue 32: coefficients allowed past TSV-M's own (docs/algorithm.md, "Coefficients past the clamp").
        Run("task-wise AdaMerging over TSV-M parts up to λ 2 (projected)", "adamerging", common, ("granularity", "task"), ("vectors", "tsv"), ("initialLambda", 1.0),
            ("lambdaRange", new JsonArray(0.0, 2.0)), ("lambdaBound", "project")),
        Run("layer-wise AdaMerging over TSV-M parts up to λ 2 (projected)", "adamerging", common, ("granularity", "layer"), ("vectors", "tsv"), ("initialLambda", 1.0),
            ("lambdaRange", new JsonArray(0.0, 2.0)), ("lambdaBound", "project")),
        Run("WUDI", "wudi", common),
        // AdaRank at AdaMerging's 500 steps, not the authors' 10,000 (20 times this table's budget; docs/reproduction.md says so).
        Run("AdaRank (task arithmetic)", "adarank", common, ("steps", AdaRankSteps(common))),
        Run("AdaRank (CART)", "adarank", common, ("base", "cart"), ("initialLambda", 2.3), ("initialRankRatio", 0.16), ("steps", AdaRankSteps(common))),
        Run("AdaRank over TSV-M parts", "adarank", common, ("base", "tsv"), ("initialLambda", 1.0), ("steps", AdaRankSteps(common))),
        // From Iso-CTS's own point, as the TSV-M row from TSV-M's (docs/algorithm.md, "AdaRank").
        Run("AdaRank over Iso-CTS", "adarank", common, ("base", "iso_cts"), ("initialLambda", 1.0), ("steps", AdaRankSteps(common))),
    ];

    /// <summary>AdaRank's steps: the table's (--steps) or AdaMerging's 500.</summary>
    private static int AdaRankSteps(JsonObject common) => common["steps"]?.GetValue<int>() ?? 500;

    /// <summary>
    /// The ResNet-18 benchmark's rows (docs/reproduction.md, "ResNet-18"): every method with the running statistics as
    /// <paramref name="common"/> says (the runs pass merge), then task arithmetic and layer-wise AdaMerging with them
    /// recomputed, the evidence for batchNormStatistics' default. RegMean solves the convolutions as linear maps of
    /// their patches (docs/algorithm.md, "RegMean"). AdaMerging over TSV-M's parts is left to the glyph ViT's table.
    /// </summary>
    public static IReadOnlyList<MethodRun> ResNetMethods(JsonObject common) =>
    [
        .. WithoutTsvParts(common),
        Run("task arithmetic, statistics recomputed", "task_arithmetic", common, ("batchNormStatistics", "recompute")),
        Run("layer-wise AdaMerging, statistics recomputed", "adamerging", common, ("granularity", "layer"), ("batchNormStatistics", "recompute")),
    ];

    /// <summary>
    /// The text benchmark's rows (docs/reproduction.md, "MiniLM"): every method but AdaMerging over TSV-M's parts (left
    /// to the glyph ViT's table), then AdaMerging at five times the learning rate: at 1e-3 each λ moves at most 0.1 in
    /// 100 steps and every one of them did, so these rows reach as far as the paper's 500 steps at 1e-3 could.
    /// </summary>
    public static IReadOnlyList<MethodRun> TextMethods(JsonObject common) =>
    [
        .. WithoutTsvParts(common),
        Run("task-wise AdaMerging at learning rate 5e-3", "adamerging", common, ("granularity", "task"), ("learningRate", 5e-3)),
        Run("layer-wise AdaMerging at learning rate 5e-3", "adamerging", common, ("granularity", "layer"), ("learningRate", 5e-3)),
        // A mask logit starts 0.1 from AdaRank's threshold, as far as 100 steps at 1e-3 move it (docs/reproduction.md).
        .. WithoutTsvParts(common).Where(m => m.Label.StartsWith("AdaRank", StringComparison.Ordinal)).Select(m => m with
        {
            Label = m.Label + " at learning rate 5e-3",
            Options = new JsonObject(m.Options.Select(kv => KeyValuePair.Create(kv.Key, kv.Value?.DeepClone()))) { ["learningRate"] = 5e-3 },
        }),
    ];

    /// <summary>Every method of <see cref="AllMethods"/> but AdaMerging over TSV-M's parts, the glyph ViT's own rows.</summary>
    private static IEnumerable<MethodRun> WithoutTsvParts(JsonObject common) =>
        AllMethods(common).Where(m => !m.Label.Contains("TSV-M parts", StringComparison.Ordinal));

    public async Task<UploadedBenchmark> UploadAsync(IReadOnlyList<string> taskNames)
    {
        var baseId = await client.UploadCheckpointAsync(Path.Combine(benchmark, "base"), "pre-trained");
        var tasks = new List<UploadedTask>();
        foreach (var name in taskNames)
        {
            var head = Path.Combine(benchmark, "heads", name + ".safetensors");
            tasks.Add(new UploadedTask(name,
                await client.UploadCheckpointAsync(Path.Combine(benchmark, "tasks", name), name),
                File.Exists(head) ? await client.UploadFileAsync("heads", head, name) : null,
                await client.UploadFileAsync("datasets", DatasetFile(name), name + " test")));
        }
        Log($"uploaded the base and {tasks.Count} tasks (checkpoint, head unless the checkpoint has it, test images)");
        return new UploadedBenchmark(baseId, tasks);
    }

    private static readonly string[] DatasetExtensions = [".safetensors", ".jsonl"];

    /// <summary>A task's test data: images as a tensor dataset, or texts as JSON Lines (the text benchmark).</summary>
    private string DatasetFile(string task) =>
        DatasetExtensions.Select(e => Path.Combine(benchmark, "datasets", task + e)).FirstOrDefault(File.Exists)
        ?? throw new FileNotFoundException($"no test data for {task} in {Path.Combine(benchmark, "datasets")}");

    /// <summary>Submits every method at once (the queue runs them), waits, and returns each method's report.</summary>
    public async Task<List<(MethodRun Run, string Id, JsonObject Report)>> RunAsync(UploadedBenchmark uploaded, IReadOnlyList<MethodRun> methods)
    {
        var submitted = new List<(MethodRun Run, string Id)>();
        foreach (var m in methods)
        {
            var tasks = new JsonArray([.. uploaded.Tasks.Select(t =>
            {
                var task = new JsonObject { ["name"] = t.Name, ["checkpoint"] = t.Checkpoint, ["adaptationData"] = t.Dataset, ["evaluationData"] = t.Dataset };
                if (t.Head is not null) task["head"] = t.Head;
                return (JsonNode?)task;
            })]);
            var request = new JsonObject { ["method"] = m.Method, ["base"] = uploaded.Base, ["tasks"] = tasks, ["options"] = m.Options.DeepClone() };
            submitted.Add((m, await client.SubmitAsync(request)));
        }
        Log($"submitted {submitted.Count} merges");
        var results = new List<(MethodRun, string, JsonObject)>();
        var pending = submitted.ToList();
        var lastShown = new Dictionary<string, string>();
        while (pending.Count > 0)
        {
            await Task.Delay(1000);
            foreach (var (run, id) in pending.ToList())
            {
                var merge = await client.MergeAsync(id);
                var status = merge["status"]!.GetValue<string>();
                var progress = merge["progress"]!;
                var shown = $"{status} {progress["phase"]} {(int)(progress["step"].Number() ?? 0) / 100 * 100}";
                if (lastShown.GetValueOrDefault(id) != shown)
                {
                    Log($"{run.Label}: {status} {progress["phase"]} step {progress["step"]}/{progress["totalSteps"]} objective {progress["objective"]}");
                    lastShown[id] = shown;
                }
                if (status is "succeeded")
                {
                    results.Add((run, id, await client.ReportAsync(id)));
                    pending.Remove((run, id));
                }
                else if (status is "failed" or "cancelled")
                    throw new InvalidOperationException($"{run.Label} ended {status}: {merge["error"]}");
            }
        }
        return results.OrderBy(r => submitted.FindIndex(s => s.Id == r.Item2)).ToList();
    }

    /// <summary>The paper's table in Markdown: accuracies in percent, tasks as columns, the average last.</summary>
    public static string Table(IReadOnlyList<string> taskNames, IReadOnlyList<(MethodRun Run, string Id, JsonObject Report)> results)
    {
        var any = results[0].Report;
        var rows = new List<(string Label, double?[] Values)>
        {
            ("pre-trained", Column(any, taskNames, "base")),
            ("individual (fine-tuned)", Column(any, taskNames, "individual")),
        };
        rows.AddRange(results.Select(r => (r.Run.Label, Column(r.Report, taskNames, "merged"))));
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"| method | {string.Join(" | ", taskNames)} | average |");
        text.AppendLine(CultureInfo.InvariantCulture, $"|---|{string.Concat(Enumerable.Repeat("---:|", taskNames.Count + 1))}");
        foreach (var (label, values) in rows)
        {
            var average = values.All(v => v is not null) ? values.Average() : null;
            text.AppendLine(CultureInfo.InvariantCulture, $"| {label} | {string.Join(" | ", values.Append(average).Select(Percent))} |");
        }
        return text.ToString();
    }

    /// <summary>Learn λ on the seen tasks through the service, then measure the merged model on tasks it never saw, here.</summary>
    public async Task<string> GeneralisationAsync(UploadedBenchmark seen, IReadOnlyList<string> heldOut, IReadOnlyList<MethodRun> methods)
    {
        var results = await RunAsync(seen, methods);
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"| method (λ from {seen.Tasks.Count} tasks) | seen average | {string.Join(" | ", heldOut.Select(h => h + " (unseen)"))} | unseen average |");
        text.AppendLine(CultureInfo.InvariantCulture, $"|---|---:|{string.Concat(Enumerable.Repeat("---:|", heldOut.Count + 1))}");
        void Row(string label, double? seenAverage, double[] unseen) => text.AppendLine(CultureInfo.InvariantCulture,
            $"| {label} | {Percent(seenAverage)} | {string.Join(" | ", unseen.Append(unseen.Average()).Select(v => Percent(v)))} |");
        Row("pre-trained", results[0].Report["average"]?["base"].Number(), Evaluate(Path.Combine(benchmark, "base"), heldOut));
        foreach (var (run, id, report) in results)
        {
            var folder = Path.Combine(benchmark, "merged", id);
            await client.DownloadAsync($"/merges/{id}/files/config.json", Path.Combine(folder, "config.json"));
            await client.DownloadAsync($"/merges/{id}/files/model.safetensors", Path.Combine(folder, "model.safetensors"));
            Row(run.Label, report["average"]?["merged"].Number(), Evaluate(folder, heldOut));
        }
        return text.ToString();
    }

    /// <summary>Accuracy of a model folder with a task's head on the task's test images, computed here, not by the service.</summary>
    public double Evaluate(string modelFolder, string task) => Evaluate(modelFolder, [task])[0];

    /// <summary>The same for several tasks, loading the model once.</summary>
    public double[] Evaluate(string modelFolder, IReadOnlyList<string> tasks)
    {
        using var folder = ModelFolder.Open(new Dictionary<string, string>
        {
            ["config.json"] = Path.Combine(modelFolder, "config.json"),
            ["model.safetensors"] = Path.Combine(modelFolder, "model.safetensors"),
        });
        using var scope = NewDisposeScope();
        var (model, parameters) = ModelParameters.LoadRunnable(folder, ScalarType.Float32, CPU);
        using var _ = model;
        return tasks.Select(task =>
        {
            using var head = ClassificationHead.Load(Path.Combine(benchmark, "heads", task + ".safetensors"), ScalarType.Float32, CPU);
            var path = Path.Combine(benchmark, "datasets", task + ".safetensors");
            using var images = new SafetensorsImageRows(path, ClipPreprocessing.Normalize);
            using var file = SafetensorsFile.Open(path);
            using var labels = file.Read(TensorDataset.Labels);
            return Evaluation.Accuracy(model, parameters, head, images, labels);
        }).ToArray();
    }

    private static double?[] Column(JsonObject report, IReadOnlyList<string> tasks, string field) =>
        tasks.Select(t => report["accuracy"]!.AsArray().FirstOrDefault(a => a!["task"]!.GetValue<string>() == t)?[field].Number()).ToArray();

    private static string Percent(double? value) => value is { } v ? (100 * v).ToString("F1", CultureInfo.InvariantCulture) : "–";

    private static MethodRun Run(string label, string method, JsonObject common, params (string Name, JsonNode? Value)[] extra)
    {
        // A method refuses options it does not take: pass on only the common options it declares.
        var takes = MergeMethods.OptionsOf(MergeMethods.Get(method)).Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var options = new JsonObject(common.Where(kv => takes.Contains(kv.Key)).Select(kv => KeyValuePair.Create(kv.Key, kv.Value?.DeepClone())));
        foreach (var (name, value) in extra) options[name] = value;
        return new MethodRun(label, method, options);
    }

    private void Log(string message) => output.WriteLine($"[{_clock.Elapsed:hh\\:mm\\:ss}] {message}");
}
