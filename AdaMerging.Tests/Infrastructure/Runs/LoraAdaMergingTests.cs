using System.Text.Json;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Tensors;
using AdaMerging.Infrastructure.Runs;
using AdaMerging.Tests.Support;
using static TorchSharp.torch;

namespace AdaMerging.Tests.Infrastructure.Runs;

/// <summary>
/// AdaMerging over LoRA adapters of the tiny CLIP (docs/algorithm.md, "AdaMerging over LoRA adapters"): kept factored,
/// it learns the λ, the objective and the merged model AdaMerging learns over the full models the adapters make, and
/// its estimate holds θ0 and the adapters instead of K dense vectors.
/// </summary>
public sealed class LoraAdaMergingTests : TempDirectoryTests
{
    private static readonly string[] Modules = ["self_attn.q_proj", "self_attn.v_proj", "mlp.fc1"];

    [Theory]
    [InlineData("""{"granularity": "layer", "steps": 3, "batchSize": 4, "seed": 5}""")]
    [InlineData("""{"granularity": "task", "steps": 3, "batchSize": 4, "precision": "bfloat16"}""")]
    public void AdaMerging_over_adapters_kept_factored_learns_what_it_learns_over_the_models_they_make(string options)
    {
        var adapters = TinyTasks.Write(Dir, seed: 8, count: 2).Select((t, k) => t with { CheckpointFiles = Adapter(k) }).ToList();
        List<PlannedTask> dense;
        using (var theta0 = ClipTiny.OpenHuggingFace())
            dense = [.. adapters.Select((t, k) => t with { CheckpointFiles = LoraFixtures.Densified(t.CheckpointFiles, theta0, Dir.File($"dense{k}.safetensors")) })];

        var (factored, fromFactors) = Run(options, adapters, "factored");
        var (whole, fromDense) = Run(options, dense, "dense");

        double tolerance = options.Contains("bfloat16", StringComparison.Ordinal) ? 1e-2 : 1e-4;
        Assert.Equal(whole.Coefficients!.Select(c => c.Layer), factored.Coefficients!.Select(c => c.Layer));
        foreach (var (f, d) in factored.Coefficients!.Zip(whole.Coefficients!))
            Assert.All(f.Lambda.Zip(d.Lambda), p => Assert.True(Math.Abs(p.First - p.Second) < tolerance, $"{f.Layer}: λ {p.First} against {p.Second}"));
        Assert.All(factored.ObjectivePerStep.Zip(whole.ObjectivePerStep), p => Assert.True(Math.Abs(p.First - p.Second) < tolerance * Math.Abs(p.Second), $"objective {p.First} against {p.Second}"));
        using var a = SafetensorsFile.Open(Path.Combine(fromFactors, "model.safetensors"));
        using var b = SafetensorsFile.Open(Path.Combine(fromDense, "model.safetensors"));
        foreach (var t in b.Tensors.Where(t => t.DType.IsFloatingPoint))
        {
            using var scope = NewDisposeScope();
            Assert.True(a.Read(t.Name).allclose(b.Read(t.Name), rtol: 10 * tolerance, atol: 10 * tolerance), t.Name);
        }
        // θ0 and two adapters of rank 4 on 3 of the 6 matrices a layer, against θ0 and two dense vectors of the model.
        Assert.True(factored.Memory!.EstimatedPeakBytes < whole.Memory!.EstimatedPeakBytes,
            $"estimated {factored.Memory.EstimatedPeakBytes} bytes factored against {whole.Memory.EstimatedPeakBytes} dense");
    }

    private (MergeReport Report, string Folder) Run(string options, List<PlannedTask> tasks, string name)
    {
        var output = Dir.File(name);
        return (MergeRun.Execute(Plans.For("adamerging", options, TinyTasks.HuggingFaceBase(), tasks), CPU, output), output);
    }

    /// <summary>Task k as a PEFT adapter of rank 4 (α 8) on q_proj, v_proj and fc1 of both layers.</summary>
    private Dictionary<string, string> Adapter(int k)
    {
        var g = new Generator(40 + (ulong)k);
        using var theta0 = ClipTiny.OpenHuggingFace();
        var factors = new Dictionary<string, Tensor>();
        foreach (var layer in new[] { 0, 1 })
            foreach (var module in Modules)
            {
                var path = $"vision_model.encoder.layers.{layer}.{module}";
                var shape = theta0.Weights.Find(path + ".weight")!.Shape;
                factors[$"base_model.model.{path}.lora_A.weight"] = randn([4, shape[1]], generator: g).Times(0.2);
                factors[$"base_model.model.{path}.lora_B.weight"] = randn([shape[0], 4], generator: g).Times(0.2);
            }
        var dir = Dir.File($"adapter{k}");
        Directory.CreateDirectory(dir);
        TestCheckpoints.Save(Path.Combine(dir, "adapter_model.safetensors"), factors);
        File.WriteAllText(Path.Combine(dir, "adapter_config.json"), JsonSerializer.Serialize(new { peft_type = "LORA", r = 4, lora_alpha = 8, target_modules = new[] { "q_proj", "v_proj", "fc1" } }));
        return Directory.GetFiles(dir).ToDictionary(f => Path.GetFileName(f), f => f);
    }
}
