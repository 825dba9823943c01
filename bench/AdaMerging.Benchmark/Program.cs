using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Globalization;
using AdaMerging.Benchmark;

// build [--seed N] [--name value …]: builds (or finds cached) the benchmark folder and prints its path last.
// run --url URL --key KEY --benchmark DIR [--tasks a,b,…] [--steps N] [--out FILE]: every method through the service.
var verb = args.FirstOrDefault() ?? "help";
var options = Options.Parse(args.Skip(1));
switch (verb)
{
    case "build":
        var settings = new BenchmarkSettings
        {
            Seed = options.Int("seed", 1),
            Tasks = options.Get("tasks", ""),
            Width = options.Int("width", 128),
            Layers = options.Int("layers", 6),
            GlyphImages = options.Int("glyphs", 60_000),
            PretrainSteps = options.Int("pretrain-steps", 1500),
            PrototypesPerClass = options.Int("prototypes", 64),
            FineTuneSteps = options.Int("finetune-steps", 200),
            FineTuneLearningRate = options.Double("finetune-lr", 3e-5),
            TestImagesPerTask = options.Int("test-images", 1000),
        };
        TorchSharp.torch.set_num_threads(Environment.ProcessorCount);
        Console.WriteLine(new BenchmarkBuilder(settings, options.Get("raw", "data/benchmark/raw"), options.Get("out", "data/benchmark")).Build());
        return 0;
    case "run":
        return await RunThroughService(options);
    default:
        Console.Error.WriteLine("usage: AdaMerging.Benchmark build [--seed N] … | run --url URL --key KEY --benchmark DIR");
        return 2;
}

static async Task<int> RunThroughService(Options options)
{
    var benchmark = options.Required("benchmark");
    var build = JsonSerializer.Deserialize<BuildDiagnostics>(File.ReadAllText(Path.Combine(benchmark, "build.json")), Json.Indented)!;
    var all = build.Tasks.Select(t => t.Task).ToList();
    var tasks = options.Get("tasks", string.Join(",", all)).Split(',', StringSplitOptions.RemoveEmptyEntries);
    var common = new JsonObject();
    if (options.Get("steps", "") is { Length: > 0 } steps) common["steps"] = int.Parse(steps, CultureInfo.InvariantCulture);
    if (options.Get("merge-seed", "") is { Length: > 0 } seed) common["seed"] = long.Parse(seed, CultureInfo.InvariantCulture);
    var methods = ServiceBenchmark.AllMethods(common);
    if (options.Get("methods", "") is { Length: > 0 } only) methods = methods.Where(m => only.Split(',').Contains(m.Label)).ToList();
    using var client = ServiceClient.Create(options.Required("url"), options.Required("key"));
    var run = new ServiceBenchmark(client, benchmark, Console.Out);
    var uploaded = await run.UploadAsync(tasks);
    var results = await run.RunAsync(uploaded, methods);
    var table = ServiceBenchmark.Table(tasks, results);
    var text = new StringBuilder(table);
    if (options.Get("held-out", "") is { Length: > 0 } heldOutList)
    {
        var heldOut = heldOutList.Split(',');
        var seen = uploaded with { Tasks = uploaded.Tasks.Where(t => !heldOut.Contains(t.Name)).ToList() };
        var generalisation = methods.Where(m => m.Label is "task arithmetic" or "layer-wise AdaMerging" or "layer-wise AdaMerging++").ToList();
        text.AppendLine().AppendLine("Generalisation (λ learned without the unseen tasks):").AppendLine()
            .Append(await run.GeneralisationAsync(seen, heldOut, generalisation));
    }
    Console.WriteLine();
    Console.WriteLine(text);
    if (options.Get("out", "") is { Length: > 0 } outFile)
    {
        File.WriteAllText(outFile, text.ToString());
        File.WriteAllText(Path.ChangeExtension(outFile, ".json"), JsonSerializer.Serialize(
            results.Select(r => new { method = r.Run.Label, id = r.Id, report = r.Report }), Json.Indented));
    }
    foreach (var (method, id, _) in results)
        Console.WriteLine($"{method.Label}: merge /merges/{id}, model /merges/{id}/model, report and plots /merges/{id}/archive");
    return 0;
}

internal sealed class Options(Dictionary<string, string> values)
{
    public static Options Parse(IEnumerable<string> args)
    {
        var list = args.ToList();
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < list.Count; i += 2)
        {
            if (!list[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= list.Count) throw new ArgumentException($"expected --name value at '{list[i]}'");
            values[list[i][2..]] = list[i + 1];
        }
        return new Options(values);
    }

    public string Get(string name, string fallback) => values.GetValueOrDefault(name, fallback);

    public string Required(string name) => values.TryGetValue(name, out var v) ? v : throw new ArgumentException($"--{name} is required");

    public int Int(string name, int fallback) => values.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public double Double(string name, double fallback) => values.TryGetValue(name, out var v) ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;
}
