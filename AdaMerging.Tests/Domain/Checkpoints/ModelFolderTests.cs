using AdaMerging.Domain.Architectures.Clip;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Tensors;
using AdaMerging.Tests.Support;
using TorchSharp;

namespace AdaMerging.Tests.Domain.Checkpoints;

public sealed class ModelFolderTests : TempDirectoryTests
{

    private Dictionary<string, string> Files(params (string Name, Action<string> Write)[] files) =>
        files.ToDictionary(f => f.Name, f =>
        {
            var path = Dir.File(f.Name);
            f.Write(path);
            return path;
        });

    [Fact]
    public void A_Hugging_Face_folder_with_config_is_recognised_and_checked()
    {
        var hf = ClipFixtures.HuggingFace(ClipFixtures.Tiny);
        using var folder = ModelFolder.Open(Files(("model.safetensors", p => TestCheckpoints.Save(p, hf)),
            ("config.json", p => File.WriteAllText(p, ClipFixtures.ConfigJson(ClipFixtures.Tiny)))));
        Assert.Equal(ClipVisionArchitecture.HuggingFaceLayout, folder.Layout);
        Assert.Equal(CheckpointFormat.Safetensors, folder.Format);
        Assert.Equal(ClipFixtures.Tiny, folder.Config);
        Assert.False(folder.ConfigInferred);
        Assert.Equal(12, folder.FeatureSize);
    }

    [Fact]
    public void Without_config_json_the_config_is_inferred_from_the_shapes()
    {
        var hf = ClipFixtures.HuggingFace(ClipFixtures.Tiny, withProjection: false);
        using var folder = ModelFolder.Open(Files(("model.safetensors", p => TestCheckpoints.Save(p, hf))));
        Assert.True(folder.ConfigInferred);
        Assert.Equal(ClipFixtures.Tiny with { NumAttentionHeads = 1, ProjectionDim = 16 }, folder.Config);
        Assert.Equal(16, folder.FeatureSize);
    }

    [Fact]
    public void Weights_that_disagree_with_config_json_are_refused_naming_the_tensor()
    {
        var hf = ClipFixtures.HuggingFace(ClipFixtures.Tiny);
        var wrong = ClipFixtures.Tiny with { IntermediateSize = 48 };
        var error = Assert.Throws<CheckpointFormatException>(() => ModelFolder.Open(Files(
            ("model.safetensors", p => TestCheckpoints.Save(p, hf)), ("config.json", p => File.WriteAllText(p, ClipFixtures.ConfigJson(wrong))))));
        Assert.Contains("'vision_model.encoder.layers.0.mlp.fc1.weight' has shape [32, 16] where config.json implies [48, 16]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_open_clip_checkpoint_maps_onto_the_same_Hugging_Face_tensors()
    {
        var hf = ClipFixtures.HuggingFace(ClipFixtures.Tiny);
        var openClip = ClipFixtures.OpenClip(hf, ClipFixtures.Tiny);
        using var folder = ModelFolder.Open(Files(("open_clip.safetensors", p => TestCheckpoints.Save(p, openClip))));
        Assert.Equal(ClipVisionArchitecture.OpenClipLayout, folder.Layout);
        Assert.Equal(ClipFixtures.Tiny with { NumAttentionHeads = 1 }, folder.Config);
        using var view = folder.HuggingFaceView();
        foreach (var (name, expected) in hf.Where(kv => kv.Key != ClipVisionLayout.Prefix + "embeddings.position_ids"))
        {
            using var actual = view.Read(name);
            Assert.True(expected.equal(actual).all().item<bool>(), $"{name} differs through the open_clip mapping");
        }
        using var scale = view.Read("logit_scale");
        Assert.Equal(4.6f, scale.item<float>());
        Assert.False(folder.HasTextTower);
    }

    [Fact]
    public void Sharded_safetensors_round_trip_through_the_index()
    {
        var hf = ClipFixtures.HuggingFace(ClipFixtures.Tiny);
        var shardDir = Path.Combine(Dir.Path, "sharded");
        using (var writer = new ShardedSafetensorsWriter(shardDir, SafetensorsWriter.LayoutOf(hf), 4096))
        {
            foreach (var (name, t) in hf) writer.Write(name, t);
            writer.Commit();
            Assert.True(writer.FileNames.Count > 3);
        }
        var files = Directory.GetFiles(shardDir).ToDictionary(p => Path.GetFileName(p), p => p);
        Assert.Contains("model-00001-of-", string.Join(' ', files.Keys), StringComparison.Ordinal);
        using var folder = ModelFolder.Open(files);
        Assert.Equal(CheckpointFormat.ShardedSafetensors, folder.Format);
        foreach (var (name, expected) in hf)
            Assert.True(expected.equal(folder.Weights.Read(name)).all().item<bool>(), name);
    }

    [Fact]
    public void A_small_model_writes_one_model_safetensors_without_an_index()
    {
        using var writer = new ShardedSafetensorsWriter(Dir.Path, [("a", SafetensorsDType.F32, [4L])], 1 << 20);
        writer.Write("a", torch.ones(4));
        writer.Commit();
        Assert.Equal(["model.safetensors"], Directory.GetFiles(Dir.Path).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData("state_dict.bin")]
    [InlineData("wrapped.pth")]
    public void A_state_dict_saved_by_PyTorch_reads_back_exactly(string fixture)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", fixture);
        using var folder = ModelFolder.Open(new Dictionary<string, string> { [fixture] = path });
        Assert.Equal(CheckpointFormat.PyTorch, folder.Format);
        Assert.Equal(["b", "h", "ids", "w"], folder.Weights.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal));
        Assert.True(torch.arange(RootedScalars.Of(12), torch.ScalarType.Float32).reshape(3, 4).DividedBy(10).equal(folder.Weights.Read("w")).all().item<bool>());
        Assert.True(torch.arange(RootedScalars.Of(3), torch.ScalarType.Float64).Times(0.25).Minus(1).equal(folder.Weights.Read("b")).all().item<bool>());
        Assert.True(torch.arange(RootedScalars.Of(5), torch.ScalarType.Float32).DividedBy(8).to_type(torch.ScalarType.Float16).equal(folder.Weights.Read("h")).all().item<bool>());
        Assert.Equal(Enumerable.Range(0, 7).Select(i => (long)i), folder.Weights.Read("ids").data<long>().ToArray());
    }

    [Theory]
    [InlineData("""{"vision_config": {"hidden_size": 64, "num_attention_heads": 5}}""", "not divisible")]
    [InlineData("""{"hidden_size": "big"}""", "hidden_size must be an integer")]
    [InlineData("""{"image_size": 30, "patch_size": 4}""", "not a multiple of patch_size")]
    [InlineData("""{"hidden_act": "relu"}""", "hidden_act 'relu'")]
    [InlineData("[1]", "not a JSON object")]
    [InlineData("{", "not valid JSON")]
    public void Bad_configs_are_refused_naming_the_field(string json, string expected)
    {
        var error = Assert.Throws<CheckpointFormatException>(() => ClipVisionConfig.Parse(json));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_CLIPConfig_takes_the_vision_config_and_the_top_level_projection()
    {
        var config = ClipVisionConfig.Parse("""{"projection_dim": 768, "vision_config": {"hidden_size": 1024, "num_hidden_layers": 24, "num_attention_heads": 16, "patch_size": 14, "intermediate_size": 4096}}""");
        Assert.Equal(new ClipVisionConfig(1024, 4096, 24, 16, 224, 14, 3, "quick_gelu", 1e-5, 768), config);
    }
}
