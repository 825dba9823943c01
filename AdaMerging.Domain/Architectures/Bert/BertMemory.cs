namespace AdaMerging.Domain.Architectures.Bert;

/// <summary>What one example of <c>tokens</c> tokens costs a BERT-family encoder, for the memory estimate (docs/algorithm.md, "Memory").</summary>
public static class BertMemory
{
    public static ModelMemory Of(BertConfig c, int tokens)
    {
        long s = tokens, h = c.HiddenSize, m = c.IntermediateSize, heads = c.NumAttentionHeads;
        long block = 4 * h * h + 2 * h * m + 9 * h + m;
        return new ModelMemory(
            InputBytes: 2 * s * 8,
            Blocks: c.NumHiddenLayers,
            // Kept by autograd per layer: q, k, v, the attention's output, the dense output, both layer norms' inputs
            // and outputs, the MLP's two activations, and the mask channel's copies. libtorch's fused attention on the
            // CPU keeps no heads · s² probabilities (its flash kernel keeps the log-sum-exp): measured by bench-memory
            // on minilm-l6, docs/performance.md, "Text models".
            BlockActivations: 10 * s * h + 2 * s * m + 2 * s,
            StageInputs: (c.NumHiddenLayers + 2) * s * (h + 1),
            ForwardWithoutGraph: 4 * s * h + s * m + heads * s * s,
            BlockParameters: block,
            ObservedGramBytes: ObservedGrams(c));
    }

    /// <summary>RegMean's: per linear layer the Gram matrix being gathered and its sum (n × n, n its input width) and Σ G Wᵀ (n × out).</summary>
    private static long ObservedGrams(BertConfig c)
    {
        long h = c.HiddenSize, m = c.IntermediateSize;
        // query, key, value, attention output (h → h); intermediate (h → m); output (m → h).
        long perLayer = 4 * 3 * h * h + (2 * h * h + h * m) + (2 * m * m + m * h);
        return c.NumHiddenLayers * perLayer * 4;
    }
}
