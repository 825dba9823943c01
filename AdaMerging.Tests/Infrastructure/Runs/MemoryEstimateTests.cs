using AdaMerging.Domain.Architectures.Clip;
using System.Diagnostics;
using System.Text.Json;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Tests.Support;
using Xunit.Abstractions;

namespace AdaMerging.Tests.Infrastructure.Runs;

/// <summary>
/// The estimate a report gives beside the measured peak, for whole AdaMerging runs (load, optimise, evaluate, write)
/// in a worker process of their own: one shape whose memory is the weights, one whose memory is the activations.
/// </summary>
public sealed class MemoryEstimateTests(ITestOutputHelper output) : TempDirectoryTests
{
    public static TheoryData<string, int, int, int, int, int, int, int> Shapes => new()
    {
        // name, hidden, intermediate, layers, image, patch, K, batch
        { "weights", 768, 3072, 2, 64, 32, 8, 16 },        // N = 17 M: θ0 and 8 task vectors are 0.6 GB, activations little
        { "activations", 64, 256, 4, 224, 16, 2, 96 },     // 197 tokens, 96 images a task: activations ~0.6 GB, weights 1 MB
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void The_report_s_estimate_is_within_15_percent_of_the_measured_peak_of_the_whole_run(string name, int hidden, int intermediate,
        int layers, int image, int patch, int k, int batch)
    {
        var config = new ClipVisionConfig(hidden, intermediate, layers, hidden / 32, image, patch, 3, "quick_gelu", 1e-5, 64);
        var files = SyntheticClip.Write(Dir.Path, config, k, images: Math.Max(64, batch));
        File.WriteAllText(Dir.File("request.json"), JsonSerializer.Serialize(new
        {
            method = "adamerging", @base = files.Base,
            tasks = files.Tasks.Select((t, i) => new { name = $"t{i}", checkpoint = t, head = files.Head, adaptationData = files.Data, evaluationData = files.Data }),
            options = new { steps = 3, batchSize = batch },
        }));

        var (exit, log) = RunWorker("run", Dir.File("request.json"), "--out", Dir.File("out"), "--device", "cpu");
        Assert.True(exit == 0, log);

        var memory = JsonDocument.Parse(File.ReadAllText(Dir.File("out/report.json"))).RootElement.GetProperty("memory");
        double estimate = memory.GetProperty("estimatedPeakBytes").GetInt64(), measured = memory.GetProperty("measuredPeakBytes").GetInt64();
        output.WriteLine($"{name}: estimated {estimate / 1e6:F0} MB, measured {measured / 1e6:F0} MB ({(estimate - measured) / measured:+0.0%;-0.0%}); " +
            $"phases {memory.GetProperty("phasePeakBytes")}");
        Assert.InRange((estimate - measured) / measured, -0.15, 0.15);
    }

    private static (int Exit, string Output) RunWorker(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "AdaMerging.Worker.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var text = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, text + error.Result);
    }
}
