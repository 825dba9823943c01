using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Tensors;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Architectures.ResNet;

/// <summary>
/// The ResNet forward passes and the batch-norm recomputation on a device against what real PyTorch computed for the
/// committed fixtures (tools/make_resnet_fixture.py): basic and bottleneck blocks, in torchvision's and Hugging
/// Face's names, through the registry's path (folder, recognised model, runnable model), the classifier applied.
/// </summary>
public static class ResNetReferenceChecks
{
    public static readonly string[] Variants = ["basic", "bottleneck"];

    public static readonly string[] LayoutFiles = ["torchvision.safetensors", "hugging_face.safetensors"];

    public static IEnumerable<(string Name, double Difference)> Run(string fixtures, Device device)
    {
        foreach (var variant in Variants)
            foreach (var file in LayoutFiles)
                yield return ($"ResNet ({variant} blocks, {Path.GetFileNameWithoutExtension(file)} names) against PyTorch",
                    Forward(Path.Combine(fixtures, "resnet_tiny", variant), file, device));
        yield return ("ResNet batch-norm statistics recomputed against PyTorch", Recompute(Path.Combine(fixtures, "resnet_tiny", "basic"), device));
    }

    /// <summary>Features and classifier logits against PyTorch's, relative to the largest reference value.</summary>
    public static double Forward(string dir, string weightsFile, Device device)
    {
        using var scope = NewDisposeScope();
        var files = new Dictionary<string, string> { ["model.safetensors"] = Path.Combine(dir, weightsFile) };
        if (weightsFile.StartsWith("hugging_face", StringComparison.Ordinal)) files["config.json"] = Path.Combine(dir, "config.json");
        using var folder = ModelFolder.Open(files);
        using var io = SafetensorsFile.Open(Path.Combine(dir, "io.safetensors"));
        return ModelParameters.Run(folder, device, (model, θ) =>
        {
            using var head = Heads.CheckpointHeads.Load(folder.Spec, folder.Weights, ScalarType.Float32, device)
                ?? throw new InvalidOperationException("the fixture carries a classifier");
            var features = model.Features(θ, io.Read("pixel_values").to(device));
            return Math.Max(ReferenceDifference.Relative(io.Read("features"), features), ReferenceDifference.Relative(io.Read("logits"), head.Logits(features)));
        });
    }

    /// <summary>Every layer's recomputed running mean and variance against PyTorch's update_bn on the same batches.</summary>
    public static double Recompute(string dir, Device device)
    {
        using var scope = NewDisposeScope();
        using var record = SafetensorsFile.Open(Path.Combine(dir, "recompute.safetensors"));
        using var merged = SafetensorsFile.Open(Path.Combine(dir, "torchvision.safetensors"));
        var config = ResNetLayout.Infer(merged, ResNetNames.TorchVision);
        var θ = record.Tensors.Where(t => t.Name.StartsWith("merged.", StringComparison.Ordinal))
            .ToDictionary(t => t.Name["merged.".Length..], t => record.Read(t.Name).to(device), StringComparer.Ordinal);
        using var task0 = new TensorImageRows(record.Read("task0"));
        using var task1 = new TensorImageRows(record.Read("task1"));
        var layers = BatchStatistics.Recompute(new ResNetModel(config, ResNetNames.TorchVision), θ, [task0, task1], batch: 4);
        double worst = layers.Count == 0 ? double.NaN : 0;
        foreach (var norm in layers)
            foreach (var statistic in new[] { ".running_mean", ".running_var" })
                worst = Math.Max(worst, ReferenceDifference.Relative(record.Read($"expected.{norm}{statistic}"), θ[norm + statistic]));
        return record.Tensors.Count(t => t.Name.StartsWith("expected.", StringComparison.Ordinal)) == 2 * layers.Count ? worst : double.NaN;
    }
}
