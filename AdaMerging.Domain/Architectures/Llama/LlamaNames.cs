using System.Globalization;
using System.Text.RegularExpressions;
using AdaMerging.Domain.Tensors;

namespace AdaMerging.Domain.Architectures.Llama;

/// <summary>
/// Where a Llama-family decoder's tensors are (docs/algorithm.md, "Decoder language models"): Hugging Face's names
/// under <c>model.</c> (LlamaForCausalLM with <c>lm_head</c>, LlamaForSequenceClassification with <c>score</c>, and
/// Mistral's and Qwen2's the same) or bare (LlamaModel): <c>embed_tokens</c>, <c>layers.N.input_layernorm</c>,
/// <c>layers.N.self_attn.{q,k,v,o}_proj</c>, <c>layers.N.post_attention_layernorm</c>,
/// <c>layers.N.mlp.{gate,up,down}_proj</c>, <c>norm</c>. Linear weights are [out, in].
/// </summary>
public sealed partial record LlamaNames(string Prefix)
{
    public static readonly string[] Prefixes = ["model.", ""];

    public static readonly string[] AttentionModules = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj"];

    public static readonly string[] MlpModules = ["mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"];

    /// <summary>The linear layers of one block, in forward order (RegMean observes them all).</summary>
    public static readonly string[] LinearModules = [.. AttentionModules, .. MlpModules];

    public const string LmHead = "lm_head.weight";

    /// <summary>The layout the weights are named in, or null when they are not a Llama-family decoder's.</summary>
    public static LlamaNames? Of(ITensorCatalog weights) =>
        Prefixes.Where(p => weights.Find(p + "embed_tokens.weight") is not null && weights.Find(p + "layers.0.self_attn.q_proj.weight") is not null
                && weights.Find(p + "layers.0.mlp.gate_proj.weight") is not null && weights.Find(p + "norm.weight") is not null)
            .Select(p => new LlamaNames(p)).FirstOrDefault();

    public string Embedding => $"{Prefix}embed_tokens.weight";

    /// <summary>Block <paramref name="layer"/>'s module (without ".weight"), e.g. <c>self_attn.q_proj</c>.</summary>
    public string Layer(int layer, string module) => $"{Prefix}layers.{layer}.{module}";

    public string FinalNorm => $"{Prefix}norm.weight";

    /// <summary>LlamaForSequenceClassification's <c>score</c> (no bias: the bias name is never found).</summary>
    public static (string Weight, string Bias) Classifier => ("score.weight", "score.bias");

    /// <summary>The rotary embeddings' cached frequencies older checkpoints carry (<c>layers.N.self_attn.rotary_emb.inv_freq</c>): never read, never merged.</summary>
    public static bool IsBuffer(string tensor) => tensor.EndsWith("rotary_emb.inv_freq", StringComparison.Ordinal);

    /// <summary>Whether a tensor is an RMSNorm's scale.</summary>
    public static bool IsNormScale(string tensor) => tensor.EndsWith("layernorm.weight", StringComparison.Ordinal) || tensor.EndsWith("norm.weight", StringComparison.Ordinal);

    /// <summary>The block a tensor belongs to; null for the embeddings, the final norm and the heads.</summary>
    public int? BlockOf(string tensor) =>
        tensor.StartsWith(Prefix, StringComparison.Ordinal) && Block().Match(tensor[Prefix.Length..]) is { Success: true } m
            ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : null;

    /// <summary>Every tensor the decoder reads with its shape under <paramref name="config"/>, in forward order.</summary>
    public IEnumerable<(string Name, long[] Shape)> Expected(LlamaConfig config)
    {
        long h = config.HiddenSize, m = config.IntermediateSize, q = (long)config.NumHeads * config.HeadDim, kv = (long)config.NumKeyValueHeads * config.HeadDim;
        yield return (Embedding, [config.VocabSize, h]);
        for (int l = 0; l < config.NumLayers; l++)
        {
            yield return (Layer(l, "input_layernorm.weight"), [h]);
            foreach (var (module, output, input, bias) in new[]
            {
                ("self_attn.q_proj", q, h, config.QkvBias), ("self_attn.k_proj", kv, h, config.QkvBias), ("self_attn.v_proj", kv, h, config.QkvBias),
                ("self_attn.o_proj", h, q, config.AttentionBias),
            })
            {
                yield return (Layer(l, module + ".weight"), [output, input]);
                if (bias) yield return (Layer(l, module + ".bias"), [output]);
            }
            yield return (Layer(l, "post_attention_layernorm.weight"), [h]);
            foreach (var (module, output, input) in new[] { ("mlp.gate_proj", m, h), ("mlp.up_proj", m, h), ("mlp.down_proj", h, m) })
            {
                yield return (Layer(l, module + ".weight"), [output, input]);
                if (config.MlpBias) yield return (Layer(l, module + ".bias"), [output]);
            }
        }
        yield return (FinalNorm, [h]);
    }

    [GeneratedRegex(@"^layers\.(\d+)\.")]
    private static partial Regex Block();
}
