namespace AdaMerging.Domain.Architectures.Llama;

/// <summary>What a Llama-family decoder holds while it runs (docs/performance.md, "Memory"), as <see cref="Bert.BertMemory"/> for the encoders.</summary>
public static class LlamaMemory
{
    /// <summary>s tokens a text, hidden h, MLP m, query width q and key-value width kv; the mask rides as one extra channel between stages.</summary>
    public static ModelMemory Of(LlamaConfig c, int tokens)
    {
        long s = tokens, h = c.HiddenSize, m = c.IntermediateSize, q = (long)c.NumHeads * c.HeadDim, kv = (long)c.NumKeyValueHeads * c.HeadDim;
        return new ModelMemory(
            InputBytes: 2 * s * 8,
            Blocks: c.NumLayers,
            // Kept by autograd per block: both norms' inputs and outputs (in float32 too), q, k, v before and after the
            // rotation, the repeated keys and values, the attention's output, the residuals, and the MLP's gate, up, SiLU and product.
            BlockActivations: 8 * s * h + 3 * s * q + 4 * s * kv + 2 * s * q + 4 * s * m + 2 * s,
            StageInputs: (c.NumLayers + 2) * s * (h + 1),
            ForwardWithoutGraph: 4 * s * h + 2 * s * q + 2 * s * m + c.NumHeads * s * s,
            BlockParameters: 2 * h * q + 2 * h * kv + 3 * h * m + 2 * h,
            ObservedGramBytes: c.NumLayers * ObservedGrams(h, m, q, kv) * 4);
    }

    /// <summary>RegMean's per block: for each linear layer the Gram of its input (gathered and summed: 2 n²) and Σ G Wᵀ (n × out).</summary>
    private static long ObservedGrams(long h, long m, long q, long kv) =>
        (2 * h * h + h * q) + 2 * (2 * h * h + h * kv) + (2 * q * q + q * h) + 2 * (2 * h * h + h * m) + (2 * m * m + m * h);
}
