using AdaMerging.Domain.Architectures.Clip;
using System.Text.Json.Nodes;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Tensors;
using AdaMerging.Infrastructure.Runs;
using AdaMerging.Tests.Support;
using TorchSharp;

namespace AdaMerging.Tests.Infrastructure.Runs;

/// <summary>
/// A full Hugging Face CLIP base with vision-only task checkpoints (no projection), as FusionBench publishes them:
/// the vision tower merges, everything else is carried byte for byte, and the result is a full CLIP again.
/// </summary>
public sealed class PublishedCheckpointsTests : TempDirectoryTests
{
    private readonly Dictionary<string, string> _base;
    private readonly List<PlannedTask> _tasks;

    public PublishedCheckpointsTests()
    {
        _base = FullClipTiny.WriteBase(Dir.File("base"));
        _tasks = TinyTasks.Write(Dir, seed: 31, (path, g) => FullClipTiny.WriteVisionTask(path, g));
    }

    [Theory]
    [InlineData("weight_averaging", "{}")]
    [InlineData("task_arithmetic", "{}")]
    [InlineData("ties", "{}")]
    [InlineData("dare", """{"dropRate": 0.5}""")]
    [InlineData("adamerging", """{"steps": 3, "batchSize": 4}""")]
    public void Every_method_merges_the_vision_tower_and_carries_the_rest_byte_for_byte(string method, string optionsJson)
    {
        var output = Dir.File("out-" + method);
        var report = MergeRun.Execute(Plans.For(method, optionsJson, _base, _tasks), torch.CPU, output);

        using var baseFolder = ModelFolder.Open(_base);
        int vision = baseFolder.Weights.Tensors.Count(t => t.Name.StartsWith(ClipVisionLayout.Prefix, StringComparison.Ordinal) && t.DType.IsFloatingPoint);
        Assert.Equal(vision, report.MergedTensors);
        Assert.Equal(baseFolder.Weights.Tensors.Count - vision, report.CarriedTensors);
        if (method == "adamerging") Assert.Equal(vision, report.Coefficients!.Count);
        Assert.Equal(2, report.Accuracy.Count); // evaluated through the base's projection: the head takes its 24 features

        using var merged = ModelFolder.Open(new Dictionary<string, string>
        {
            ["model.safetensors"] = Path.Combine(output, "model.safetensors"),
            ["config.json"] = Path.Combine(output, "config.json"),
        });
        Assert.True(merged.HasTextTower);
        Assert.Equal(baseFolder.Weights.Tensors.Select(t => t.Name), merged.Weights.Tensors.Select(t => t.Name));
        foreach (var name in FullClipTiny.TextTensors.Append(ClipVisionLayout.Projection))
            Assert.True(SameBytes(baseFolder.Weights, merged.Weights, name), $"{name} was not carried unchanged");
        Assert.False(SameBytes(baseFolder.Weights, merged.Weights, ClipVisionLayout.Prefix + "encoder.layers.0.mlp.fc1.weight"), "the vision tower was not merged");
        Assert.Equal(File.ReadAllText(_base["config.json"]), File.ReadAllText(Path.Combine(output, "config.json")));
    }

    [Fact]
    public void A_full_CLIP_without_its_config_comes_out_with_a_CLIPConfig_read_off_its_shapes()
    {
        var output = Dir.File("no-config");
        var files = new Dictionary<string, string> { ["model.safetensors"] = _base["model.safetensors"] };
        MergeRun.Execute(Plans.For("task_arithmetic", "{}", files, _tasks), torch.CPU, output);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "config.json")))!;
        Assert.Equal("clip", config["model_type"]!.GetValue<string>());
        Assert.Equal(24, config["projection_dim"]!.GetValue<long>());
        Assert.Equal(40, config["text_config"]!["vocab_size"]!.GetValue<long>());
        Assert.Equal(8, config["text_config"]!["max_position_embeddings"]!.GetValue<long>());
        Assert.Equal(32, config["vision_config"]!["hidden_size"]!.GetValue<int>());
    }

    private static bool SameBytes(ITensorSource a, ITensorSource b, string name)
    {
        using var x = a.Read(name);
        using var y = b.Read(name);
        return x.dtype == y.dtype && x.shape.SequenceEqual(y.shape) && x.equal(y).all().item<bool>();
    }
}
