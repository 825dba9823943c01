using AdaMerging.Domain.Architectures.Clip;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
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

    private void Log(string message) => output.WriteLine($"[{_clock.Elapsed:hh\\:mm\\:ss}] {message}");
}
