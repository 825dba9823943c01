using AdaMerging.Domain.Tensors;

namespace AdaMerging.Domain.Architectures.Llama;

/// <summary>A Llama-family decoder's config read off its weights, and the weights checked against a config.</summary>
public static class LlamaLayout
{
    /// <summary>Heads of this width when no config.json says: the weights hold the heads' total width, not their count.</summary>
    public const int GuessedHeadDim = 64;

    /// <summary>
    /// The config the shapes imply: heads <see cref="GuessedHeadDim"/> wide (the shapes cannot tell 32 heads of 64
    /// from 16 of 128; config.json says when it came, and a decoder whose config was guessed is not run), the model
    /// type qwen2 where q, k and v have biases and o_proj none, tied embeddings where a causal LM has no lm_head.
    /// </summary>
    public static LlamaConfig Infer(ITensorCatalog weights, LlamaNames names)
    {
        var words = weights.Find(names.Embedding)!.Shape;
        int layers = 0;
        while (weights.Find(names.Layer(layers, "self_attn.q_proj.weight")) is not null) layers++;
        long Rows(string module) => weights.Find(names.Layer(0, module + ".weight")) is { Shape.Count: 2 } t ? t.Shape[0] : 0;
        long q = Rows("self_attn.q_proj"), kv = Rows("self_attn.k_proj");
        int headDim = (int)Math.Min(GuessedHeadDim, Math.Max(2, kv));
        bool Has(string module) => weights.Find(names.Layer(0, module + ".bias")) is not null;
        bool qkvBias = Has("self_attn.q_proj"), oBias = Has("self_attn.o_proj");
        return new LlamaConfig(qkvBias && !oBias ? "qwen2" : "llama", words.Count == 2 ? (int)words[0] : 0, words.Count == 2 ? (int)words[1] : 0,
            (int)Rows("mlp.gate_proj"), layers, (int)(q / headDim), (int)(kv / headDim), headDim,
            TieWordEmbeddings: names.Prefix.Length > 0 && weights.Find(LlamaNames.LmHead) is null, AttentionBias: oBias, MlpBias: Has("mlp.gate_proj"));
    }

    /// <summary>Every tensor the config expects that is missing, not floating, or of another shape (at most 5, then a count).</summary>
    public static IReadOnlyList<string> Mismatches(LlamaConfig config, ITensorCatalog weights, LlamaNames names) =>
        ExpectedTensors.Mismatches(weights, names.Expected(config),
        [
            .. weights.Find(names.Layer(config.NumLayers, "self_attn.q_proj.weight")) is null ? [] : new[] { $"the weights have more than num_hidden_layers {config.NumLayers} blocks" },
            .. ExpectedTensors.ClassifierWidth(weights, LlamaNames.Classifier.Weight, config.HiddenSize),
            .. weights.Find(LlamaNames.LmHead) is { } head && !head.Shape.SequenceEqual([config.VocabSize, (long)config.HiddenSize])
                ? new[] { $"'{LlamaNames.LmHead}' is {head.ShapeText} where [{config.VocabSize}, {config.HiddenSize}] is expected" } : [],
        ]);
}
