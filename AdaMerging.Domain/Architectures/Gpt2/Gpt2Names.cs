using System.Globalization;
using System.Text.RegularExpressions;
using AdaMerging.Domain.Tensors;

namespace AdaMerging.Domain.Architectures.Gpt2;

/// <summary>
/// Where a GPT-2 decoder's tensors are (docs/algorithm.md, "Text models"): Hugging Face's GPT2Model names (<c>wte</c>,
/// <c>wpe</c>, <c>h.N.ln_1</c>, <c>h.N.attn.c_attn</c>, <c>h.N.attn.c_proj</c>, <c>h.N.ln_2</c>, <c>h.N.mlp.c_fc</c>,
/// <c>h.N.mlp.c_proj</c>, <c>ln_f</c>), or under <c>transformer.</c> with <c>score</c> for
/// GPT2ForSequenceClassification. Its linear layers are Conv1D: the weight is [in, out].
/// </summary>
public sealed partial record Gpt2Names(string Prefix)
{
    public static readonly string[] Prefixes = ["", "transformer."];

    /// <summary>The linear (Conv1D) layers of one block, in forward order (RegMean observes them all).</summary>
    public static readonly string[] LinearModules = ["attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"];

    public static readonly string[] NormModules = ["ln_1", "ln_2"];

    /// <summary>The layout the weights are named in, or null when they are not a GPT-2 decoder's.</summary>
    public static Gpt2Names? Of(ITensorCatalog weights) =>
        Prefixes.Where(p => weights.Find(p + "wte.weight") is not null && weights.Find(p + "h.0.attn.c_attn.weight") is not null)
            .Select(p => new Gpt2Names(p)).FirstOrDefault();

    public string Embedding(string name) => $"{Prefix}{name}";

    /// <summary>Block <paramref name="layer"/>'s module (without ".weight"), e.g. <c>attn.c_attn</c>.</summary>
    public string Layer(int layer, string module) => $"{Prefix}h.{layer}.{module}";

    public string FinalNorm => $"{Prefix}ln_f";

    /// <summary>
    /// GPT2ForSequenceClassification's <c>score</c> (no bias: the bias name is never found); a bare GPT2Model's task
    /// checkpoints carry theirs under it too (docs/algorithm.md, "Names across checkpoints").
    /// </summary>
    public static (string Weight, string Bias) Classifier => ("score.weight", "score.bias");

    /// <summary>The causal-mask buffers checkpoints saved before transformers 4.x carry (<c>h.N.attn.bias</c>, <c>h.N.attn.masked_bias</c>): never read, never merged.</summary>
    public bool IsBuffer(string tensor) =>
        tensor.StartsWith(Prefix, StringComparison.Ordinal) && Buffer().IsMatch(tensor[Prefix.Length..]);

    /// <summary>Whether a tensor is a layer norm's scale (ln_1, ln_2, ln_f).</summary>
    public static bool IsNormScale(string tensor) => tensor.EndsWith("ln_1.weight", StringComparison.Ordinal)
        || tensor.EndsWith("ln_2.weight", StringComparison.Ordinal) || tensor.EndsWith("ln_f.weight", StringComparison.Ordinal);

    /// <summary>The block a tensor belongs to; null for the embeddings, the final norm and the score.</summary>
    public int? BlockOf(string tensor) =>
        tensor.StartsWith(Prefix, StringComparison.Ordinal) && Block().Match(tensor[Prefix.Length..]) is { Success: true } m
            ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : null;

    /// <summary>Every tensor the decoder reads with its shape under <paramref name="config"/>, in forward order.</summary>
    public IEnumerable<(string Name, long[] Shape)> Expected(Gpt2Config config)
    {
        long h = config.HiddenSize, m = config.InnerSize;
        yield return (Embedding("wte.weight"), [config.VocabSize, h]);
        yield return (Embedding("wpe.weight"), [config.Positions, h]);
        for (int l = 0; l < config.NumLayers; l++)
        {
            foreach (var (module, input, output) in new[] { ("attn.c_attn", h, 3 * h), ("attn.c_proj", h, h), ("mlp.c_fc", h, m), ("mlp.c_proj", m, h) })
            {
                yield return (Layer(l, module + ".weight"), [input, output]);
                yield return (Layer(l, module + ".bias"), [output]);
            }
            foreach (var norm in NormModules)
            {
                yield return (Layer(l, norm + ".weight"), [h]);
                yield return (Layer(l, norm + ".bias"), [h]);
            }
        }
        yield return (FinalNorm + ".weight", [h]);
        yield return (FinalNorm + ".bias", [h]);
    }

    [GeneratedRegex(@"^h\.(\d+)\.")]
    private static partial Regex Block();

    [GeneratedRegex(@"^h\.\d+\.attn\.(bias|masked_bias)$")]
    private static partial Regex Buffer();
}
