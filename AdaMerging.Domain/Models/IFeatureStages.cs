using static TorchSharp.torch;

namespace AdaMerging.Domain.Models;

/// <summary>
/// An image encoder as a chain of stages, features = stage(S−1) ∘ … ∘ stage(0) (pixels), so that a backward pass can
/// keep only the tensors between stages and recompute each stage's inside when it reaches it (activation
/// checkpointing, docs/algorithm.md, "Memory"). For a CLIP ViT the stages are the embedding, each transformer block,
/// and the pooled head of the tower.
/// </summary>
public interface IFeatureStages
{
    int StageCount { get; }

    /// <summary>The parameters as the stages read them, from the checkpoint's own names (views: autograd reaches the originals).</summary>
    IReadOnlyDictionary<string, Tensor> Bind(IReadOnlyDictionary<string, Tensor> nativeParameters);

    /// <summary>Stage <paramref name="stage"/> of bound parameters θ applied to <paramref name="x"/>.</summary>
    Tensor Stage(int stage, IReadOnlyDictionary<string, Tensor> θ, Tensor x);
}

public static class FeatureStages
{
    /// <summary>All stages in order: the features of <paramref name="pixels"/>.</summary>
    public static Tensor Features(this IFeatureStages model, IReadOnlyDictionary<string, Tensor> nativeParameters, Tensor pixels)
    {
        using var scope = NewDisposeScope();
        var bound = model.Bind(nativeParameters);
        var x = pixels;
        for (int s = 0; s < model.StageCount; s++) x = model.Stage(s, bound, x);
        return x.MoveToOuterDisposeScope();
    }
}
