using AdaMerging.Domain.Heads;
using TorchSharp;
using F = TorchSharp.torch.nn.functional;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Architectures.Clip;

/// <summary>
/// The CLIP text transformer (Hugging Face names) as a function of its parameters (docs/algorithm.md, "Zero-shot
/// heads"): token plus position embeddings, causal blocks, the final layer norm, the state at the end-of-text token,
/// text_projection. Texts are run at the batch's longest length: positions after a text's end-of-text never reach it
/// through causal attention, so this equals padding to the full context.
/// </summary>
public sealed class ClipTextEncoder(ClipTextConfig config)
{
    private const string P = ClipTextLayout.Prefix;

    private readonly ClipTransformer _transformer = new(config.HiddenSize, config.NumAttentionHeads, config.HiddenAct, config.LayerNormEps);

    public ClipTextConfig Config { get; } = config;

    /// <summary>Embeddings [N, projection] of token id lists, each read at its first <paramref name="endOfText"/> token (as CLIP's argmax).</summary>
    public Tensor Forward(IReadOnlyDictionary<string, Tensor> θ, IReadOnlyList<IReadOnlyList<int>> texts, int endOfText)
    {
        if (texts.Count == 0) throw new ArgumentException("no texts to encode", nameof(texts));
        int length = texts.Max(t => t.Count);
        if (texts.Any(t => t.Count == 0) || length > Config.Context)
            throw new ArgumentException($"every text needs 1 to {Config.Context} tokens", nameof(texts));
        if (texts.Any(t => !t.Contains(endOfText))) throw new ArgumentException("every text needs its end-of-text token", nameof(texts));
        if (texts.SelectMany(t => t).Any(id => id < 0 || id >= Config.VocabularySize))
            throw new ArgumentException($"token ids must be below the vocabulary size {Config.VocabularySize}", nameof(texts));
        var device = θ[ClipTextLayout.TokenEmbedding].device;
        using var scope = NewDisposeScope();
        var padded = new long[texts.Count * length];
        for (int r = 0; r < texts.Count; r++)
            for (int c = 0; c < texts[r].Count; c++) padded[r * length + c] = texts[r][c];
        var ids = tensor(padded, [texts.Count, length], device: device);
        var x = θ[ClipTextLayout.TokenEmbedding].index_select(0, ids.flatten()).view(texts.Count, length, Config.HiddenSize)
            .Plus(θ[ClipTextLayout.PositionEmbedding].narrow(0, 0, length));
        for (int l = 0; l < Config.NumHiddenLayers; l++) x = _transformer.Block(x, θ, $"{P}encoder.layers.{l}.", causal: true);
        x = _transformer.LayerNorm(x, θ, P + "final_layer_norm");
        var ends = tensor(texts.Select((t, r) => (long)(r * length + t.ToList().IndexOf(endOfText))).ToArray(), device: device);
        var pooled = x.reshape(texts.Count * length, Config.HiddenSize).index_select(0, ends);
        return F.linear(pooled, θ[ClipTextLayout.Projection]).MoveToOuterDisposeScope();
    }
}
