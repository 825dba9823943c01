using System.Globalization;
using System.Text.RegularExpressions;
using AdaMerging.Domain.Tensors;

namespace AdaMerging.Domain.Architectures.Bert;

/// <summary>
/// Where a BERT-family encoder's tensors are (docs/algorithm.md, "Text models"): Hugging Face's BertModel names
/// (<c>embeddings.*</c>, <c>encoder.layer.N.attention.self.{query,key,value}</c>, <c>attention.output.dense</c>,
/// <c>intermediate.dense</c>, <c>output.dense</c>, their layer norms, <c>pooler.dense</c>), under <c>bert.</c> with
/// <c>classifier</c> for BertForSequenceClassification, or under <c>roberta.</c> with <c>classifier.dense</c> and
/// <c>classifier.out_proj</c> for RobertaForSequenceClassification. A bare encoder (no prefix) names its task
/// checkpoints' heads as its classification class would (docs/algorithm.md, "Names across checkpoints").
/// </summary>
/// <param name="Roberta">A RoBERTa (its prefix, or model_type in config.json): its heads are RobertaForSequenceClassification's.</param>
public sealed partial record BertNames(string Prefix, bool HasPooler, bool Roberta = false)
{
    /// <summary>The prefixes the recognised layouts put before the encoder's names.</summary>
    public static readonly string[] Prefixes = ["", "bert.", "roberta."];

    /// <summary>The layout the weights are named in, or null when they are not a BERT-family encoder's.</summary>
    public static BertNames? Of(ITensorCatalog weights)
    {
        foreach (var prefix in Prefixes)
            if (weights.Find(prefix + "embeddings.word_embeddings.weight") is not null && weights.Find(prefix + "encoder.layer.0.attention.self.query.weight") is not null)
                return new BertNames(prefix, weights.Find(prefix + "pooler.dense.weight") is not null, prefix == "roberta.");
        return null;
    }

    public string Embedding(string name) => $"{Prefix}embeddings.{name}";

    /// <summary>Layer <paramref name="layer"/>'s module (without ".weight"), e.g. <c>attention.self.query</c>.</summary>
    public string Layer(int layer, string module) => $"{Prefix}encoder.layer.{layer}.{module}";

    public string Pooler => $"{Prefix}pooler.dense";

    /// <summary>The classifier on the features (RoBERTa's out_proj): BertForSequenceClassification's or RobertaForSequenceClassification's names.</summary>
    public (string Weight, string Bias) Classifier =>
        Roberta ? ("classifier.out_proj.weight", "classifier.out_proj.bias") : ("classifier.weight", "classifier.bias");

    /// <summary>RoBERTa's classification head's first layer (dense, then tanh), before <see cref="Classifier"/>.</summary>
    public (string Weight, string Bias)? ClassifierHidden => Roberta ? ("classifier.dense.weight", "classifier.dense.bias") : null;

    /// <summary>The linear layers of one encoder layer, in forward order (RegMean observes them all).</summary>
    public static readonly string[] LinearModules =
        ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense", "intermediate.dense", "output.dense"];

    public static readonly string[] NormModules = ["attention.output.LayerNorm", "output.LayerNorm"];

    /// <summary>The encoder layer a tensor belongs to; null for the embeddings, the pooler and the classifier.</summary>
    public int? BlockOf(string tensor) =>
        tensor.StartsWith(Prefix, StringComparison.Ordinal) && Block().Match(tensor[Prefix.Length..]) is { Success: true } m
            ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : null;

    /// <summary>Every tensor the encoder reads with its shape under <paramref name="config"/>, in forward order.</summary>
    public IEnumerable<(string Name, long[] Shape)> Expected(BertConfig config)
    {
        long h = config.HiddenSize, m = config.IntermediateSize;
        yield return (Embedding("word_embeddings.weight"), [config.VocabSize, h]);
        yield return (Embedding("position_embeddings.weight"), [config.MaxPositionEmbeddings, h]);
        yield return (Embedding("token_type_embeddings.weight"), [config.TypeVocabSize, h]);
        yield return (Embedding("LayerNorm.weight"), [h]);
        yield return (Embedding("LayerNorm.bias"), [h]);
        for (int l = 0; l < config.NumHiddenLayers; l++)
        {
            foreach (var module in LinearModules)
            {
                long output = module == "intermediate.dense" ? m : h, input = module == "output.dense" ? m : h;
                yield return (Layer(l, module + ".weight"), [output, input]);
                yield return (Layer(l, module + ".bias"), [output]);
            }
            foreach (var norm in NormModules)
            {
                yield return (Layer(l, norm + ".weight"), [h]);
                yield return (Layer(l, norm + ".bias"), [h]);
            }
        }
        if (HasPooler)
        {
            yield return (Pooler + ".weight", [h, h]);
            yield return (Pooler + ".bias", [h]);
        }
    }

    [GeneratedRegex(@"^encoder\.layer\.(\d+)\.")]
    private static partial Regex Block();
}
