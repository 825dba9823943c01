using AdaMerging.Domain.Tensors;

namespace AdaMerging.Domain.Architectures.Gpt2;

/// <summary>A GPT-2 decoder's config read off its weights, and the weights checked against a config.</summary>
public static class Gpt2Layout
{
    /// <summary>The config the shapes imply; the head count as hidden / 64 (every GPT-2 size's heads are 64 wide; config.json says otherwise when it came).</summary>
    public static Gpt2Config Infer(ITensorCatalog weights, Gpt2Names names)
    {
        var words = weights.Find(names.Embedding("wte.weight"))!.Shape;
        var positions = weights.Find(names.Embedding("wpe.weight"));
        int layers = 0;
        while (weights.Find(names.Layer(layers, "attn.c_attn.weight")) is not null) layers++;
        var inner = weights.Find(names.Layer(0, "mlp.c_fc.weight"));
        int hidden = words.Count == 2 ? (int)words[1] : 0;
        return new Gpt2Config(words.Count == 2 ? (int)words[0] : 0, hidden, layers, Math.Max(1, hidden / 64),
            inner is { Shape.Count: 2 } ? (int)inner.Shape[1] : 0, positions is { Shape.Count: 2 } ? (int)positions.Shape[0] : 0);
    }

    /// <summary>Every tensor the config expects that is missing, not floating, or of another shape (at most 5, then a count).</summary>
    public static IReadOnlyList<string> Mismatches(Gpt2Config config, ITensorCatalog weights, Gpt2Names names) =>
        ExpectedTensors.Mismatches(weights, names.Expected(config),
        [
            .. weights.Find(names.Layer(config.NumLayers, "attn.c_attn.weight")) is null ? [] : new[] { $"the weights have more than n_layer {config.NumLayers} blocks" },
            .. ExpectedTensors.ClassifierWidth(weights, Gpt2Names.Classifier.Weight, config.HiddenSize),
        ]);
}
