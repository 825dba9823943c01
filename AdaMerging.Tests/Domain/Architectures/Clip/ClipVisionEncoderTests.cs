using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Architectures.Clip;
using AdaMerging.Domain.Models;
using AdaMerging.Tests.Support;
using TorchSharp;

namespace AdaMerging.Tests.Domain.Architectures.Clip;

/// <summary>The C# encoder against an independent PyTorch implementation (tools/make_clip_fixture.py).</summary>
public class ClipVisionEncoderTests
{
    [Fact]
    public void Features_and_head_logits_match_PyTorch_to_1e_5_relative()
    {
        using var folder = ClipTiny.OpenHuggingFace();
        using var io = ClipTiny.Io();
        var (encoder, θ) = ClipFolders.LoadClip(folder, torch.ScalarType.Float32, torch.CPU);
        using var head = ClassificationHead.Load(ClipTiny.File("head.safetensors"), torch.ScalarType.Float32, torch.CPU);
        using var _ = torch.no_grad();
        var features = encoder.Forward(θ, io.Read("pixel_values"));
        var logits = head.Logits(features);
        AssertClose(io.Read("features"), features);
        AssertClose(io.Read("logits"), logits);
        ModelParameters.Dispose(θ);
    }

    [Fact]
    public void The_open_clip_layout_of_the_same_weights_gives_the_same_features()
    {
        using var folder = ClipTiny.OpenOpenClip();
        using var io = ClipTiny.Io();
        var (_, θ) = ClipFolders.LoadClip(folder, torch.ScalarType.Float32, torch.CPU);
        // The weights do not say how many heads there are: without config.json they are inferred as hidden/64.
        Assert.Equal(1, folder.Config!.NumAttentionHeads);
        var fixedConfig = new ClipVisionEncoder(folder.Config! with { NumAttentionHeads = 4 });
        using var _ = torch.no_grad();
        AssertClose(io.Read("features"), fixedConfig.Forward(θ, io.Read("pixel_values")));
        ModelParameters.Dispose(θ);
    }

    [Fact]
    public void An_open_clip_folder_with_its_open_clip_config_runs_with_its_heads_and_activation_and_matches_PyTorch()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File(OpenClipConfig.FileName), """
            {"model_cfg": {"embed_dim": 24, "quick_gelu": true, "vision_cfg": {"image_size": 16, "layers": 2, "width": 32, "patch_size": 4, "head_width": 8, "mlp_ratio": 2.0}},
             "preprocess_cfg": {"mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}}
            """);
        using var folder = ModelFolder.Open(new Dictionary<string, string>
        {
            ["open_clip_model.safetensors"] = ClipTiny.File("open_clip.safetensors"), [OpenClipConfig.FileName] = dir.File(OpenClipConfig.FileName),
        });
        var spec = Assert.IsType<ClipVisionSpec>(folder.Spec);
        Assert.False(spec.ConfigInferred);
        Assert.Equal(ClipTiny.Config, spec.Config);   // 4 heads and quick_gelu, as the authors' config says: not hidden/64 = 1 head
        Assert.Equal([0.5f, 0.5f, 0.5f], spec.Normalization!.Mean);
        using var io = ClipTiny.Io();
        var (model, θ) = ModelParameters.LoadRunnable(folder, torch.ScalarType.Float32, torch.CPU);
        using (model)
        using (torch.no_grad())
            AssertClose(io.Read("features"), model.Features(θ, io.Read("pixel_values")));
        ModelParameters.Dispose(θ);
    }

    [Fact]
    public void Images_of_the_wrong_shape_are_refused_before_any_matrix_product()
    {
        using var folder = ClipTiny.OpenHuggingFace();
        var (encoder, θ) = ClipFolders.LoadClip(folder, torch.ScalarType.Float32, torch.CPU);
        var error = Assert.Throws<ArgumentException>(() => encoder.Forward(θ, torch.zeros(2, 3, 15, 16)));
        Assert.Contains("[B, 3, 16, 16]", error.Message, StringComparison.Ordinal);
        ModelParameters.Dispose(θ);
    }

    private static void AssertClose(torch.Tensor expected, torch.Tensor actual)
    {
        Assert.Equal(expected.shape, actual.shape);
        var relative = ((expected - actual).abs().max() / expected.abs().max()).item<float>();
        Assert.True(relative < 1e-5, $"relative difference {relative}");
    }
}
