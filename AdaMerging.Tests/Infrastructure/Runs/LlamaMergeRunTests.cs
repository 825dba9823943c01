using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Tensors;
using AdaMerging.Infrastructure.Runs;
using AdaMerging.Tests.Support;
using static TorchSharp.torch;

namespace AdaMerging.Tests.Infrastructure.Runs;

/// <summary>
/// A recognised Llama-family decoder merged data-free (docs/algorithm.md, "Decoder language models"): streamed, the
/// decoder's tensors merged, the score carried from the base, config.json carried, and the model card naming the
/// loading class; text data for it is refused saying its tokenizer is not read.
/// </summary>
public sealed class LlamaMergeRunTests : TempDirectoryTests
{
    [Fact]
    public void Task_arithmetic_merges_the_decoder_s_tensors_carries_the_score_and_names_the_loading_class()
    {
        var baseFiles = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["model.safetensors"] = LlamaTiny.File("llama_classifier", "model.safetensors"),
            ["config.json"] = LlamaTiny.File("llama_classifier", "config.json"),
        };
        Dictionary<string, Tensor> theta0;
        using (var file = SafetensorsFile.Open(baseFiles["model.safetensors"])) theta0 = file.Tensors.ToDictionary(t => t.Name, t => file.Read(t.Name));
        var g = new Generator(3);
        var tasks = Enumerable.Range(0, 2).Select(k =>
        {
            var path = Dir.File($"task{k}.safetensors");
            TestCheckpoints.Save(path, theta0.ToDictionary(kv => kv.Key, kv => kv.Value.Plus(randn(kv.Value.shape, generator: g).Times(0.05))));
            return new PlannedTask($"t{k}", new Dictionary<string, string> { ["model.safetensors"] = path }, null, null, null);
        }).ToList();
        var output = Dir.File("merged");
        var report = MergeRun.Execute(Plans.For("task_arithmetic", "{\"lambda\": 0.5}", baseFiles, tasks), CPU, output);

        using var merged = SafetensorsFile.Open(Path.Combine(output, "model.safetensors"));
        using var t0 = SafetensorsFile.Open(tasks[0].CheckpointFiles["model.safetensors"]);
        using var t1 = SafetensorsFile.Open(tasks[1].CheckpointFiles["model.safetensors"]);
        const string q = "model.layers.1.self_attn.k_proj.weight";
        var expected = theta0[q].Plus(t0.Read(q).sub(theta0[q]).Plus(t1.Read(q).sub(theta0[q])).Times(0.5));
        Assert.True(expected.allclose(merged.Read(q), rtol: 1e-6, atol: 1e-7), "k_proj is θ0 + 0.5 Σ τ");
        Assert.True(theta0["score.weight"].equal(merged.Read("score.weight")).all().item<bool>(), "the score is the base's");
        Assert.Equal(File.ReadAllText(baseFiles["config.json"]), File.ReadAllText(Path.Combine(output, "config.json")));
        Assert.Contains("LlamaForSequenceClassification", File.ReadAllText(Path.Combine(output, "README.md")), StringComparison.Ordinal);
        Assert.Equal(report.MergedTensors + 1, merged.Tensors.Count);
    }
}
