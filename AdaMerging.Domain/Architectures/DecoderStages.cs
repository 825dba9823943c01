using TorchSharp;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Architectures;

/// <summary>
/// What the decoders (GPT-2, the Llama family) share (docs/algorithm.md, "Text models"): their stages in order (the
/// embeddings, each block, the pooling), the causal mask over a right-padded batch, and the features as the last token
/// that is not padding. The attention mask rides between stages as the hidden states' last channel.
/// </summary>
public static class DecoderStages
{
    /// <summary>Stage <paramref name="stage"/> of a decoder with <paramref name="layers"/> blocks, its result moved out of the stage's dispose scope.</summary>
    public static Tensor Run(int stage, int layers, Func<Tensor> embed, Func<int, Tensor> block, Func<Tensor> pool)
    {
        using var scope = NewDisposeScope();
        var y = stage == 0 ? embed()
            : stage <= layers ? block(stage - 1)
            : stage == layers + 1 ? pool()
            : throw new ArgumentOutOfRangeException(nameof(stage), stage, $"the decoder has stages 0 to {layers + 1}");
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Which keys each query sees: [B, 1, L, L], causal (within <paramref name="window"/> tokens where given), over the
    /// text's tokens; each position also sees itself, so a padding position (and a text of no tokens) stays finite.
    /// </summary>
    public static Tensor Allowed(Tensor maskChannel, int? window = null)
    {
        long b = maskChannel.shape[0], l = maskChannel.shape[1];
        var device = maskChannel.device;
        var keys = maskChannel.squeeze(-1).gt(RootedScalars.Zero).view(b, 1, 1, l);
        var causal = ones(l, l, dtype: ScalarType.Bool, device: device).tril();
        if (window is { } w) causal = causal.logical_and(ones(l, l, dtype: ScalarType.Bool, device: device).triu(1 - w));
        return causal.logical_and(keys.logical_or(eye(l, dtype: ScalarType.Bool, device: device)));
    }

    /// <summary>
    /// The last stage's result: the final states of the last token that is not padding (a classifier's features,
    /// <paramref name="allPositions"/> false), or every position's [B, L, H] (a language model's, scored by <see cref="Models.LanguageModelHead"/>).
    /// </summary>
    public static Tensor Final(Tensor normalised, Tensor maskChannel, bool allPositions) => allPositions ? normalised : LastToken(normalised, maskChannel);

    /// <summary>The final states of the last token that is not padding: [B, H] (the first position for a text of no tokens).</summary>
    public static Tensor LastToken(Tensor normalised, Tensor maskChannel)
    {
        long b = normalised.shape[0], l = normalised.shape[1], h = normalised.shape[2];
        var mask = maskChannel.squeeze(-1);
        var last = arange(RootedScalars.Of(l), dtype: mask.dtype, device: mask.device).mul(mask).argmax(-1);
        return normalised.gather(1, last.view(b, 1, 1).expand(b, 1, h)).squeeze(1);
    }
}
