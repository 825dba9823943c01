using AdaMerging.Domain.Architectures;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Tensors;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Heads;

/// <summary>
/// A task checkpoint's own classifier as its head, where its layout carries one (a fine-tuned ResNet's <c>fc</c>, a BERT classifier's <c>classifier</c>):
/// what a task without a head resource is evaluated and adapted with (docs/algorithm.md, "Heads"). Applied to the
/// features as they are (no normalisation), as the checkpoint's own network applies it.
/// </summary>
public static class CheckpointHeads
{
    /// <summary>The classifier described as a head resource is; null when the base's layout has none or the checkpoint lacks it.</summary>
    /// <remarks>A layout whose head has a hidden layer (RoBERTa's) needs it too: its input width is the head's feature size.</remarks>
    public static HeadInfo? Info(ModelSpec? model, ITensorCatalog checkpoint)
    {
        if (model?.Classifier is not (var weight, var bias) || checkpoint.Find(weight) is not { Shape.Count: 2, DType.IsFloatingPoint: true } w) return null;
        int features = (int)w.Shape[1];
        if (model.ClassifierHidden is (var hiddenWeight, var hiddenBias))
        {
            if (checkpoint.Find(hiddenWeight) is not { Shape.Count: 2, DType.IsFloatingPoint: true } h || checkpoint.Find(hiddenBias) is null) return null;
            features = (int)h.Shape[1];
        }
        return new HeadInfo((int)w.Shape[0], features, checkpoint.Find(bias) is not null, false, null);
    }

    /// <summary>The classifier on the device, or null as for <see cref="Info"/>.</summary>
    public static ClassificationHead? Load(ModelSpec? model, ITensorSource checkpoint, ScalarType dtype, Device device)
    {
        if (model?.Classifier is not (var weight, var bias) || Info(model, checkpoint) is null) return null;
        using var scope = NewDisposeScope();
        var w = checkpoint.Read(weight, dtype).to(device).MoveToOuterDisposeScope();
        var b = checkpoint.Find(bias) is null ? null : checkpoint.Read(bias, dtype).to(device).MoveToOuterDisposeScope();
        (Tensor, Tensor)? hidden = model.ClassifierHidden is var (hw, hb)
            ? (checkpoint.Read(hw, dtype).to(device).MoveToOuterDisposeScope(), checkpoint.Read(hb, dtype).to(device).MoveToOuterDisposeScope())
            : null;
        return new ClassificationHead(w, b, normalizeFeatures: false, hidden);
    }
}
