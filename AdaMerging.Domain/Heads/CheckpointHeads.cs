using AdaMerging.Domain.Architectures;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Tensors;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Heads;

/// <summary>
/// A task checkpoint's own classifier as its head, where its layout carries one (a fine-tuned ResNet's <c>fc</c>):
/// what a task without a head resource is evaluated and adapted with (docs/algorithm.md, "Heads"). Applied to the
/// features as they are (no normalisation), as the checkpoint's own network applies it.
/// </summary>
public static class CheckpointHeads
{
    /// <summary>The classifier described as a head resource is; null when the base's layout has none or the checkpoint lacks it.</summary>
    public static HeadInfo? Info(ModelSpec? model, ITensorCatalog checkpoint) =>
        model?.Classifier is var (weight, bias) && checkpoint.Find(weight) is { Shape.Count: 2, DType.IsFloatingPoint: true } w
            ? new HeadInfo((int)w.Shape[0], (int)w.Shape[1], checkpoint.Find(bias) is not null, false, null)
            : null;

    /// <summary>The classifier on the device, or null as for <see cref="Info"/>.</summary>
    public static ClassificationHead? Load(ModelSpec? model, ITensorSource checkpoint, ScalarType dtype, Device device)
    {
        if (model?.Classifier is not (var weight, var bias) || Info(model, checkpoint) is null) return null;
        using var scope = NewDisposeScope();
        var w = checkpoint.Read(weight, dtype).to(device).MoveToOuterDisposeScope();
        var b = checkpoint.Find(bias) is null ? null : checkpoint.Read(bias, dtype).to(device).MoveToOuterDisposeScope();
        return new ClassificationHead(w, b, normalizeFeatures: false);
    }
}
