using System.Text.Json;
using System.Text.Json.Nodes;
using AdaMerging.Benchmark;
using AdaMerging.Tests.Support;

namespace AdaMerging.Tests.Benchmark;

/// <summary>
/// The reproduction pipeline end to end on a tiny benchmark built from synthetic raw files: build, upload over HTTP,
/// merges through the queue and the worker, the table, and the generalisation check; the service's accuracies must
/// equal the same models evaluated here.
/// </summary>
public sealed class BenchmarkThroughServiceTests(ServiceFixture service) : TempDirectoryTests, IClassFixture<ServiceFixture>
{
    private static readonly string[] Tasks = ["mnist", "fashion", "digits"];

    private BenchmarkBuilder Builder() => new(new BenchmarkSettings
    {
        Tasks = string.Join(",", Tasks), Width = 32, Layers = 1, GlyphImages = 256, PretrainSteps = 20, PretrainBatch = 32,
        PrototypesPerClass = 5, FineTuneSteps = 15, FineTuneBatch = 32, FineTuneLearningRate = 1e-3, TestImagesPerTask = 40,
        ValidationImagesPerTask = 50,
    }, Path.Combine(Dir.Path, "raw"), Path.Combine(Dir.Path, "benchmark"));

    [Fact]
    public async Task Every_row_of_the_table_comes_from_the_service_and_agrees_with_local_evaluation()
    {
        SyntheticRawData.Write(Path.Combine(Dir.Path, "raw"));
        var directory = Builder().Build();
        var built = File.GetLastWriteTimeUtc(Path.Combine(directory, "build.json"));
        Assert.Equal(directory, Builder().Build());     // cached: the same folder, not rebuilt
        Assert.Equal(built, File.GetLastWriteTimeUtc(Path.Combine(directory, "build.json")));
        var diagnostics = JsonSerializer.Deserialize<BuildDiagnostics>(File.ReadAllText(Path.Combine(directory, "build.json")), Json.Indented)!;
        Assert.Equal(Tasks, diagnostics.Tasks.Select(t => t.Task));
        Assert.All(Enumerable.Range(0, 3), i => Assert.Equal(1.0, diagnostics.TaskVectorCosines[i][i], 4));

        var client = new ServiceClient(service.Client);
        var log = new StringWriter();
        var run = new ServiceBenchmark(client, directory, log);
        var uploaded = await run.UploadAsync(Tasks);
        var methods = BenchmarkMethods.AllMethods(new JsonObject { ["steps"] = 3 })
            .Where(m => m.Label is "task arithmetic" or "layer-wise AdaMerging").ToList();
        var results = await run.RunAsync(uploaded, methods);

        var table = ServiceBenchmark.Table(Tasks, results).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("| method | mnist | fashion | digits | average |", table[0]);
        Assert.Equal(["pre-trained", "individual (fine-tuned)", "task arithmetic", "layer-wise AdaMerging"],
            table[2..].Select(r => r.Split('|')[1].Trim()));
        Assert.All(table[2..], row => Assert.All(row.Split('|')[2..^1], cell => Assert.InRange(double.Parse(cell, System.Globalization.CultureInfo.InvariantCulture), 0, 100)));

        var report = results[0].Report["accuracy"]!.AsArray().Single(a => a!["task"]!.GetValue<string>() == "digits")!;
        Assert.Equal(report["individual"]!.GetValue<double>(), run.Evaluate(Path.Combine(directory, "tasks", "digits"), "digits"), 10);

        var seen = uploaded with { Tasks = uploaded.Tasks.Where(t => t.Name != "digits").ToList() };
        var generalisation = (await run.GeneralisationAsync(seen, ["digits"], methods[..1])).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("digits (unseen)", generalisation[0], StringComparison.Ordinal);
        var basePercent = (100 * report["base"]!.GetValue<double>()).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(basePercent, generalisation[2].Split('|')[3].Trim());    // the pre-trained model on the unseen task, as the service measured it
        Assert.StartsWith("| task arithmetic |", generalisation[3], StringComparison.Ordinal);
    }

}
