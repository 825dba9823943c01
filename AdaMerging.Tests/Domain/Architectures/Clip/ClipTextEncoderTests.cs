using AdaMerging.Domain.Architectures.Clip;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Models;
using AdaMerging.Tests.Support;
using TorchSharp;

namespace AdaMerging.Tests.Domain.Architectures.Clip;

/// <summary>The text tower against the independent PyTorch reference (tools/make_text_fixture.py), in both layouts.</summary>
public sealed class ClipTextEncoderTests
{
    [Theory]
    [InlineData("hugging_face")]
    [InlineData("open_clip")]
    public void Text_embeddings_equal_the_PyTorch_reference_within_1e_5(string layout)
    {
        using var folder = layout == "open_clip" ? ClipText.OpenOpenClip() : ClipText.OpenHuggingFace();
        using var view = folder.HuggingFaceView();
        var config = ClipTextLayout.Infer(view, folder.ConfigJson);
        Assert.Equal((128, 2, 2, 77), (config.HiddenSize, config.NumAttentionHeads, config.NumHiddenLayers, config.Context));
        var parameters = ModelParameters.Load(view, torch.ScalarType.Float32, torch.CPU, n => !n.EndsWith("position_ids", StringComparison.Ordinal));
        try
        {
            var tokenizer = folder.Tokenizer()!;
            var ids = ClipText.Texts().Where(t => t.Ids is not null).Select(t => (IReadOnlyList<int>)t.Ids!).ToList();
            using var reference = ClipText.ReferenceTensors();
            using var expected = reference.Read("text_embeddings");
            using var actual = new ClipTextEncoder(config).Forward(parameters, ids, tokenizer.EndId);
            Assert.Equal(expected.shape, actual.shape);
            var difference = (actual - expected).abs().max().item<float>();
            Assert.True(difference <= 1e-5, $"largest difference {difference}");
        }
        finally
        {
            ModelParameters.Dispose(parameters);
        }
    }

    [Fact]
    public void A_text_tower_whose_shapes_disagree_is_refused_naming_the_tensor()
    {
        using var dir = new TempDirectory();
        using (var folder = ClipText.OpenHuggingFace())
        {
            var tensors = folder.Weights.Tensors.ToDictionary(t => t.Name, t => folder.Weights.Read(t.Name));
            tensors["text_model.encoder.layers.1.mlp.fc2.bias"] = torch.zeros(7);
            TestCheckpoints.Save(dir.File("model.safetensors"), tensors);
        }
        using var broken = ModelFolder.Open(new Dictionary<string, string> { ["model.safetensors"] = dir.File("model.safetensors") });
        using var view = broken.HuggingFaceView();
        var error = Assert.Throws<CheckpointFormatException>(() => ClipTextLayout.Infer(view, null));
        Assert.Contains("tensor 'text_model.encoder.layers.1.mlp.fc2.bias' has shape [7] where the text tower implies [128]", error.Message, StringComparison.Ordinal);
    }
}
