using AdaMerging.Domain.Architectures;
using System.Text.Json;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Tensors;
using AdaMerging.Infrastructure.Runs;
using AdaMerging.Domain.Methods;
using static TorchSharp.torch;

namespace AdaMerging.Worker.Cli;

/// <summary>
/// Every merge method through the worker's own run (load, merge, evaluate, write) on the device and on the CPU, from
/// the tiny CLIP fixture and three seeded fine-tunes of it: the merged weights (and learned λ) must agree. DARE's
/// masks come from the device's own generator, so on a GPU it is checked against a second run on the same device.
/// </summary>
public static class MethodChecks
{
    private const int Steps = 5;

    public static IEnumerable<CheckResult> Run(string fixtures, Device device, DeviceTolerances tolerances)
    {
        var dir = Directory.CreateTempSubdirectory("adamerging-device-check-");
        try
        {
            var inputs = WriteInputs(Path.Combine(fixtures, "clip_tiny"), dir.FullName);
            var learningRate = new AdaMergingSettings().LearningRate;
            (string Method, object Options)[] methods =
            [
                ("weight_averaging", new { }), ("task_arithmetic", new { lambda = 0.3 }), ("ties", new { topK = 0.2 }),
                ("dare", new { dropRate = 0.5, seed = 3 }),
                ("adamerging", new { granularity = "layer", steps = Steps, batchSize = 4 }),
            ];
            var results = new List<CheckResult>();
            bool onCpu = device.type == TorchSharp.DeviceType.CPU;
            foreach (var (method, options) in methods)
            {
                var against = method == "dare" ? device : CPU;
                var onDevice = Merge(inputs, method, options, device, Path.Combine(dir.FullName, $"{method}-device"));
                var onOther = Merge(inputs, method, options, against, Path.Combine(dir.FullName, $"{method}-again"));
                // The learned merge's weights follow from λ: λ is what is held to a tolerance there.
                results.Add(method == "adamerging"
                    ? new CheckResult($"adamerging λ after {Steps} layer-wise steps against the CPU", LambdaDifference(onDevice.Report, onOther.Report),
                        tolerances.LambdaInStepsOf * learningRate, "largest absolute difference")
                    : new CheckResult($"{method} merged weights against {(method == "dare" && !onCpu ? "a second run" : "the CPU")}",
                        Largest(onDevice.Model, onOther.Model), onCpu || method == "dare" ? 0 : tolerances.Elementwise, "largest relative difference"));
            }
            return results;
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private sealed record Inputs(string Base, IReadOnlyList<LocalMergeTask> Tasks);

    private sealed record Output(string Model, MergeReport Report);

    private static Output Merge(Inputs inputs, string method, object options, Device device, string output)
    {
        var optionJson = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(JsonSerializer.Serialize(options));
        var plan = new LocalMergeRequest(method, inputs.Base, inputs.Tasks, optionJson).ToPlan(Directory.GetCurrentDirectory());
        var report = MergeRun.Execute(plan, device, output);
        return new Output(Path.Combine(output, "model.safetensors"), report);
    }

    /// <summary>The base (HF layout and config), three fine-tunes θ0 + 0.02·N(0, 1)·|θ0|, the fixture's head, 12 random images.</summary>
    private static Inputs WriteInputs(string fixture, string dir)
    {
        var baseDir = Directory.CreateDirectory(Path.Combine(dir, "base")).FullName;
        foreach (var name in new[] { "model.safetensors", "config.json" }) File.Copy(Path.Combine(fixture, name), Path.Combine(baseDir, name));
        using var generator = new Generator(2024);
        using var scope = NewDisposeScope();
        using var theta0 = SafetensorsFile.Open(Path.Combine(baseDir, "model.safetensors"));
        var tasks = new List<LocalMergeTask>();
        var data = Path.Combine(dir, "data.safetensors");
        SafetensorsWriter.Save(data, new Dictionary<string, Tensor>
        {
            ["pixel_values"] = randn([12, 3, 16, 16], generator: generator),
            ["labels"] = arange(RootedScalars.Of(12), ScalarType.Int64).remainder(RootedScalars.Of(5)),
        });
        for (int k = 0; k < 3; k++)
        {
            var path = Path.Combine(dir, $"task{k}.safetensors");
            SafetensorsWriter.Save(path, theta0.Tensors.ToDictionary(t => t.Name, t => theta0.Read(t.Name) is var w && w.is_floating_point()
                ? w.Plus(randn(w.shape, generator: generator).Times(0.02) * w.abs()) : w));
            tasks.Add(new LocalMergeTask($"task{k}", path, Path.Combine(fixture, "head.safetensors"), data, data));
        }
        return new Inputs(baseDir, tasks);
    }

    /// <summary>The largest relative difference over every tensor of two merged models.</summary>
    private static double Largest(string a, string b)
    {
        using var left = SafetensorsFile.Open(a);
        using var right = SafetensorsFile.Open(b);
        return left.Tensors.Max(t =>
        {
            using var scope = NewDisposeScope();
            return ReferenceDifference.Relative(left.Read(t.Name), right.Read(t.Name));
        });
    }

    private static double LambdaDifference(MergeReport a, MergeReport b) =>
        a.Coefficients!.Zip(b.Coefficients!).SelectMany(p => p.First.Lambda.Zip(p.Second.Lambda, (x, y) => Math.Abs(x - y))).Max();
}
