using AdaMerging.Domain.Tensors;

namespace AdaMerging.Domain.Architectures.Bert;

/// <summary>A BERT-family encoder's config read off its weights, and the weights checked against a config.</summary>
public static class BertLayout
{
    /// <summary>
    /// The config the shapes imply: widths and counts from the tensors; the head count as hidden / 64 (BERT-base,
    /// MiniLM and RoBERTa all use 64-wide heads; config.json says otherwise when it came); RoBERTa by its prefix.
    /// </summary>
    public static BertConfig Infer(ITensorCatalog weights, BertNames names)
    {
        var words = weights.Find(names.Embedding("word_embeddings.weight"))!.Shape;
        long Rows(string name) => weights.Find(names.Embedding(name)) is { Shape.Count: 2 } t ? t.Shape[0] : 0;
        int layers = 0;
        while (weights.Find(names.Layer(layers, "attention.self.query.weight")) is not null) layers++;
        var intermediate = weights.Find(names.Layer(0, "intermediate.dense.weight"));
        var type = names.Prefix == "roberta." ? BertConfig.Roberta : BertConfig.Bert;
        int hidden = words.Count == 2 ? (int)words[1] : 0;
        return new BertConfig(type, words.Count == 2 ? (int)words[0] : 0, hidden, layers, Math.Max(1, hidden / 64),
            intermediate is { Shape.Count: 2 } ? (int)intermediate.Shape[0] : 0, (int)Rows("position_embeddings.weight"),
            (int)Rows("token_type_embeddings.weight"), LayerNormEps: BertConfig.DefaultEps(type), PadTokenId: BertConfig.DefaultPad(type));
    }

    /// <summary>Every tensor the config expects that is missing, not floating, or of another shape (at most 5, then a count).</summary>
    public static IReadOnlyList<string> Mismatches(BertConfig config, ITensorCatalog weights, BertNames names) =>
        ExpectedTensors.Mismatches(weights, names.Expected(config),
        [
            .. weights.Find(names.Layer(config.NumHiddenLayers, "attention.self.query.weight")) is null ? [] : new[] { $"the weights have more than num_hidden_layers {config.NumHiddenLayers} layers" },
            .. new[] { names.Classifier, names.ClassifierHidden }.OfType<(string Weight, string)>().SelectMany(c => ExpectedTensors.ClassifierWidth(weights, c.Weight, config.HiddenSize)),
        ]);
}
