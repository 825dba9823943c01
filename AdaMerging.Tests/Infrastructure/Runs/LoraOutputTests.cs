using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Checkpoints.Lora;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Tensors;
using AdaMerging.Infrastructure.Runs;
using AdaMerging.Tests.Support;
using static TorchSharp.torch;

namespace AdaMerging.Tests.Infrastructure.Runs;

/// <summary>
/// output: lora (docs/algorithm.md, "LoRA output"): the merged model's delta from its base written as a PEFT adapter;
/// read back as a task it is the merged model wherever the delta's rank fits, and each matrix's reported error is the
/// truncated SVD's.
/// </summary>
public sealed class LoraOutputTests : TempDirectoryTests
{
    private (string Folder, MergeReport Report) Merge(string output, long rank)
    {
        var folder = Dir.File($"{output}-{rank}");
        var report = MergeRun.Execute(Plans.For("task_arithmetic", $"{{\"lambda\": 0.3, \"output\": \"{output}\", \"loraRank\": {rank}}}", LoraFixtures.Base(), LoraFixtures.Tasks()),
            CPU, folder);
        return (folder, report);
    }

    [Fact]
    public void Adapters_merged_into_one_adapter_read_back_as_the_merged_model()
    {
        var (model, _) = Merge("model", 16);
        var (adapter, report) = Merge("lora", 16);
        Assert.Contains(LoraConfig.FileName, report.Files);
        Assert.Contains(LoraExtraction.WeightsFileName, report.Files);
        Assert.False(File.Exists(Path.Combine(adapter, "model.safetensors")));

        using var theta0 = ModelFolder.Open(LoraFixtures.Base());
        using var folder = ModelFolder.Open(new Dictionary<string, string>
        {
            [LoraConfig.FileName] = Path.Combine(adapter, LoraConfig.FileName),
            [LoraExtraction.WeightsFileName] = Path.Combine(adapter, LoraExtraction.WeightsFileName),
        });
        using var merged = SafetensorsFile.Open(Path.Combine(model, "model.safetensors"));
        var readBack = folder.WeightsNamedAs(theta0);
        var leftOut = report.Lora!.LeftOut.Select(l => l.Tensor).ToHashSet();
        Assert.Equal(["model.layers.0.conv.weight", "model.layers.0.mlp.c_fc.bias", "model.layers.0.self_attn.q_proj.bias"], leftOut.Order(StringComparer.Ordinal));
        foreach (var t in merged.Tensors.Where(t => !leftOut.Contains(t.Name)))
        {
            using var scope = NewDisposeScope();
            // Every delta here has rank at most 8 (the adapters' ranks summed), so rank 16 holds it up to float32's rounding.
            Assert.True(readBack.Read(t.Name).allclose(merged.Read(t.Name), rtol: 1e-5, atol: 1e-5), t.Name);
        }
        Assert.All(report.Lora.Tensors, e => Assert.True(e.RelativeError < 1e-5, $"{e.Tensor}: {e.RelativeError}"));
        Assert.Contains("model.embed_tokens.weight", report.Lora.Tensors.Select(e => e.Tensor));
        var card = File.ReadAllText(Path.Combine(adapter, "README.md"));
        Assert.Contains("library_name: peft\n", card, StringComparison.Ordinal);
        Assert.Contains("PeftModel.from_pretrained(base, ", card, StringComparison.Ordinal);
    }

    [Fact]
    public void At_rank_one_each_matrix_s_error_is_the_truncated_SVD_s()
    {
        var (model, _) = Merge("model", 1);
        var (_, report) = Merge("lora", 1);
        using var merged = SafetensorsFile.Open(Path.Combine(model, "model.safetensors"));
        using var theta0 = SafetensorsFile.Open(LoraFixtures.Base()["model.safetensors"]);
        Assert.Equal(5, report.Lora!.Tensors.Count);
        foreach (var e in report.Lora.Tensors)
        {
            using var scope = NewDisposeScope();
            var delta = merged.Read(e.Tensor, ScalarType.Float64).Plus(theta0.Read(e.Tensor, ScalarType.Float64).neg());
            var squares = linalg.svdvals(delta).square();
            double optimal = Math.Sqrt(squares.narrow(0, 1, squares.shape[0] - 1).sum().item<double>() / squares.sum().item<double>());
            Assert.Equal(1, e.Rank);
            Assert.True(Math.Abs(e.RelativeError - optimal) < 1e-4 * optimal, $"{e.Tensor}: {e.RelativeError} where the best rank-1 error is {optimal}");
        }
    }
}
