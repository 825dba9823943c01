namespace AdaMerging.Domain.Architectures.Bert;

/// <summary>What one example of <c>tokens</c> tokens costs a BERT-family encoder, for the memory estimate (docs/algorithm.md, "Memory").</summary>
public static class BertMemory
{
    public static ModelMemory Of(BertConfig c, int tokens) =>
        TextTransformer(c.NumHiddenLayers, c.HiddenSize, c.IntermediateSize, c.NumAttentionHeads, tokens, ObservedGrams(c));

    /// <summary>
    /// A text transformer's (BERT's post-LN encoder, GPT-2's pre-LN decoder: the same tensors per layer) of
    /// <paramref name="layers"/> layers, hidden h, MLP m, with the mask riding as one extra channel between stages.
    /// </summary>
    public static ModelMemory TextTransformer(int layers, long h, long m, long heads, long s, long observedGramBytes) => new(
        InputBytes: 2 * s * 8,
        Blocks: layers,
        // Kept by autograd per layer: q, k, v, the attention's output, the dense output, both layer norms' inputs
        // and outputs, the MLP's two activations, and the mask channel's copies. libtorch's fused attention on the
        // CPU keeps no heads · s² probabilities (its flash kernel keeps the log-sum-exp): measured by bench-memory
        // on minilm-l6, docs/performance.md, "Text models".
        BlockActivations: 10 * s * h + 2 * s * m + 2 * s,
        StageInputs: (layers + 2) * s * (h + 1),
        ForwardWithoutGraph: 4 * s * h + s * m + heads * s * s,
        BlockParameters: 4 * h * h + 2 * h * m + 9 * h + m,
        ObservedGramBytes: observedGramBytes);

    /// <summary>RegMean's: per linear layer the Gram matrix being gathered and its sum (n × n, n its input width) and Σ G Wᵀ (n × out).</summary>
    private static long ObservedGrams(BertConfig c)
    {
        long h = c.HiddenSize, m = c.IntermediateSize;
        // query, key, value, attention output (h → h); intermediate (h → m); output (m → h).
        long perLayer = 4 * 3 * h * h + (2 * h * h + h * m) + (2 * m * m + m * h);
        return c.NumHiddenLayers * perLayer * 4;
    }
}
