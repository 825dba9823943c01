using AdaMerging.Domain.Architectures;
using AdaMerging.Domain.Architectures.ResNet;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Models;
using AdaMerging.Tests.Support;
using TorchSharp;

namespace AdaMerging.Tests.Domain.Architectures.ResNet;

/// <summary>The C# ResNet against an independent PyTorch implementation (tools/make_resnet_fixture.py), and how its checkpoints are recognised.</summary>
public sealed class ResNetModelTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("basic", "torchvision.safetensors")]
    [InlineData("basic", "hugging_face.safetensors")]
    [InlineData("bottleneck", "torchvision.safetensors")]
    [InlineData("bottleneck", "hugging_face.safetensors")]
    public void Features_and_classifier_logits_match_PyTorch_to_1e_5_relative(string variant, string weights)
    {
        double difference = ResNetReferenceChecks.Forward(ResNetTiny.Dir(variant), weights, torch.CPU);
        Assert.True(difference <= 1e-5, $"{variant} {weights}: relative difference {difference:E2}");
    }

    [Fact]
    public void Recomputed_batch_norm_statistics_match_PyTorch_update_bn_to_1e_5_relative()
    {
        double difference = ResNetReferenceChecks.Recompute(ResNetTiny.Dir(), torch.CPU);
        Assert.True(difference <= 1e-5, $"relative difference {difference:E2}");
    }

    [Fact]
    public void Both_layouts_are_recognised_with_the_same_shape_the_classifier_and_the_blocks()
    {
        using var torchVision = ResNetTiny.OpenTorchVision("bottleneck");
        using var huggingFace = ResNetTiny.OpenHuggingFace("bottleneck");
        var tv = Assert.IsType<ResNetSpec>(torchVision.Spec);
        var hf = Assert.IsType<ResNetSpec>(huggingFace.Spec);
        Assert.Equal((ResNetArchitecture.TorchVisionLayout, true), (tv.Layout, tv.ConfigInferred));
        Assert.Equal((ResNetArchitecture.HuggingFaceLayout, false), (hf.Layout, hf.ConfigInferred));
        foreach (var spec in new[] { tv, hf })
        {
            Assert.Equal(ResNetConfig.Bottleneck, spec.Config.LayerType);
            Assert.Equal([1, 2], spec.Config.Depths);
            Assert.Equal([16, 32], spec.Config.HiddenSizes);
            Assert.Equal(32, spec.FeatureSize);
            Assert.True(spec.HasBatchNorm);
        }
        Assert.Equal(("fc.weight", "fc.bias"), tv.Classifier);
        Assert.Equal(("classifier.1.weight", "classifier.1.bias"), hf.Classifier);
        Assert.Equal([null, 0, 1, 2, null], new[] { "conv1.weight", "layer1.0.bn3.bias", "layer2.0.downsample.0.weight", "layer2.1.conv2.weight", "fc.weight" }.Select(tv.BlockOf));
        Assert.Equal([null, 0, 1, 2], new[] { "resnet.embedder.embedder.convolution.weight", "resnet.encoder.stages.0.layers.0.layer.2.normalization.bias",
            "resnet.encoder.stages.1.layers.0.shortcut.convolution.weight", "resnet.encoder.stages.1.layers.1.layer.1.convolution.weight" }.Select(hf.BlockOf));
        Assert.Equal("layer1.0.bn1.weight", tv.SharesCoefficientWith("layer1.0.bn1.running_var"));
        Assert.Null(tv.SharesCoefficientWith("layer1.0.bn1.bias"));
    }

    [Fact]
    public void A_config_json_that_contradicts_the_weights_is_refused_naming_the_tensor()
    {
        var config = _dir.File("config.json");
        File.WriteAllText(config, File.ReadAllText(ResNetTiny.File("config.json")).Replace("\"hidden_sizes\": [\n    8,\n    16\n  ]", "\"hidden_sizes\": [8, 24]"));
        var error = Assert.Throws<CheckpointFormatException>(() => ModelFolder.Open(new Dictionary<string, string>
        {
            ["model.safetensors"] = ResNetTiny.File("hugging_face.safetensors"),
            ["config.json"] = config,
        }));
        Assert.Contains("'resnet.encoder.stages.1.layers.0.layer.0.convolution.weight' has shape [16, 8, 3, 3] where [24, 8, 3, 3] is expected", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_preprocessor_config_sets_the_image_size_and_normalisation()
    {
        var preprocessor = _dir.File(ResNetPreprocessing.FileName);
        File.WriteAllText(preprocessor, """{"crop_size": {"height": 64, "width": 64}, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.25, 0.25, 0.25]}""");
        using var folder = ModelFolder.Open(new Dictionary<string, string>
        {
            ["model.safetensors"] = ResNetTiny.File("torchvision.safetensors"),
            [ResNetPreprocessing.FileName] = preprocessor,
        });
        var spec = Assert.IsType<ResNetSpec>(folder.Spec);
        Assert.Equal(64, spec.Preprocessing.ImageSize);
        Assert.Equal([0.25f, 0.25f, 0.25f], spec.Preprocessing.Normalization.Std);
        Assert.Equal(3L * 64 * 64 * 4, spec.Memory.InputBytes);
    }

    [Fact]
    public void The_registry_offers_the_ResNet_benchmark_shapes()
    {
        Assert.IsType<ResNetArchitecture>(RandomProblems.Of("resnet-18"));
        using var problem = RandomProblems.Of("resnet-tiny").Random("resnet-tiny", 2, 2, torch.ScalarType.Float32, torch.CPU);
        using var _ = torch.no_grad();
        var features = problem.Model.Features(problem.Vectors.BaseParameters(), problem.Tasks[0].Adaptation.ReadRange(0, 2, torch.CPU));
        Assert.Equal([2L, 16], features.shape);
        Assert.True(features.isfinite().all().item<bool>());
        Assert.Equal(problem.Model is ResNetModel { Config: var c } ? c.Blocks : -1, problem.Memory.Blocks);
    }

    [Fact]
    public void In_training_mode_batch_norms_use_the_batch_s_statistics_and_gradients_reach_the_weights()
    {
        using var folder = ResNetTiny.OpenTorchVision();
        var spec = (ResNetSpec)folder.Spec!;
        var (model, θ) = ModelParameters.LoadRunnable(folder, torch.ScalarType.Float32, torch.CPU);
        using var _ = model;
        using var g = new torch.Generator(5);
        using var x = torch.randn([6, 3, 32, 32], generator: g).Times(3).Plus(1);
        using var statistics = new BatchStatistics();
        torch.Tensor recorded;
        using (torch.no_grad()) recorded = ((ResNetModel)model).WithBatchStatistics(statistics).Features(θ, x);
        using var weight = θ["layer1.0.conv1.weight"].detach().clone().requires_grad_(true);
        var leaves = new Dictionary<string, torch.Tensor>(θ) { ["layer1.0.conv1.weight"] = weight };
        using var training = new ResNetModel(spec.Config, spec.Names).ForTraining().Features(leaves, x);
        using var evaluation = model.Features(θ, x);
        training.square().sum().backward();
        Assert.True(training.allclose(recorded, rtol: 1e-5, atol: 1e-6), "training mode normalises as the recorded batch statistics do");
        Assert.False(training.allclose(evaluation, rtol: 1e-3, atol: 1e-4), "and not with the running statistics");
        Assert.True(weight.grad is { } grad && grad.isfinite().all().item<bool>() && grad.abs().sum().item<float>() > 0);
        recorded.Dispose();
        ModelParameters.Dispose(θ);
    }
}
