

namespace AdaMerging.Domain.Architectures.Clip;

/// <summary>What one image costs a CLIP ViT, for the memory estimate (docs/algorithm.md, "Memory").</summary>
public static class ClipMemory
{
    public static ModelMemory Of(ClipVisionConfig c)
    {
        long d = c.HiddenSize, i = c.IntermediateSize, layers = c.NumHiddenLayers;
        return new ModelMemory(
            InputBytes: (long)c.NumChannels * c.ImageSize * c.ImageSize * 4,
            Blocks: c.NumHiddenLayers,
            BlockActivations: BlockActivations(c),
            StageInputs: (layers + 2) * Tokens(c) * d,
            ForwardWithoutGraph: Tokens(c) * (2 * d + i),
            BlockParameters: BlockParameters(c),
            // Per block, the six linear layers' Gram matrices (q, k, v, out and fc1 take D inputs, fc2 takes I) twice
            // (one set being gathered, one set of sums) and Σ G Wᵀ beside them.
            ObservedGramBytes: layers * (2 * (5 * d * d + i * i) + 4 * d * d + 2 * d * i) * 4);
    }

    /// <summary>
    /// Elements autograd keeps per image and transformer block: the block's input, the first LayerNorm's output, q, k,
    /// v, the attention's output and its merged heads, the residual sum and the second LayerNorm's output (9 · T·D),
    /// and the MLP's hidden layer before, inside and after the activation (3 · T·I).
    /// </summary>
    public static long BlockActivations(ClipVisionConfig c) => Tokens(c) * (9L * c.HiddenSize + 3L * c.IntermediateSize);

    /// <summary>Patches plus the class token.</summary>
    public static long Tokens(ClipVisionConfig c) => (long)(c.ImageSize / c.PatchSize) * (c.ImageSize / c.PatchSize) + 1;

    /// <summary>A transformer block's weights: q, k, v and the output projection (4 · D²), the MLP (2 · D·I), biases and norms.</summary>
    public static long BlockParameters(ClipVisionConfig c) =>
        4L * c.HiddenSize * c.HiddenSize + 2L * c.HiddenSize * c.IntermediateSize + 9L * c.HiddenSize + c.IntermediateSize;
}
