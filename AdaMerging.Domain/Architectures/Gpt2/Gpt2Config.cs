using System.Text.Json;
using System.Text.Json.Nodes;
using AdaMerging.Domain.Checkpoints;

namespace AdaMerging.Domain.Architectures.Gpt2;

/// <summary>
/// A GPT-2 decoder's shape as Hugging Face's GPT2Config gives it: read from config.json and checked against the
/// weights, or read off the shapes when none came (docs/algorithm.md, "Text models").
/// </summary>
public sealed record Gpt2Config(
    int VocabSize,
    int HiddenSize,
    int NumLayers,
    int NumHeads,
    int InnerSize,
    int Positions,
    double LayerNormEps = 1e-5,
    string Activation = "gelu_new",
    int? PadTokenId = null)
{
    public const string ModelType = "gpt2";

    /// <summary>The activations Hugging Face names that the decoder runs (the tanh GELU GPT-2 trained with, the exact one, ReLU).</summary>
    public static readonly IReadOnlySet<string> Activations = new HashSet<string>(StringComparer.Ordinal) { "gelu_new", "gelu_pytorch_tanh", "gelu", "relu" };

    public string Describe() =>
        $"GPT-2 decoder: {NumLayers} layers, hidden {HiddenSize}, {NumHeads} heads, MLP {InnerSize}, vocabulary {VocabSize}, {Positions} tokens";

    /// <summary>Every way the config is inconsistent in itself; empty when sound.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        void Require(bool ok, string problem) { if (!ok) problems.Add(problem); }
        Require(HiddenSize is > 0 and <= 16384, $"n_embd {HiddenSize} is outside 1-16384");
        Require(NumHeads > 0 && HiddenSize % NumHeads == 0, $"n_embd {HiddenSize} is not a multiple of n_head {NumHeads}");
        Require(NumLayers is > 0 and <= 256, $"n_layer {NumLayers} is outside 1-256");
        Require(InnerSize is > 0 and <= 65536, $"n_inner {InnerSize} is outside 1-65536");
        Require(VocabSize is > 0 and <= 1 << 22, $"vocab_size {VocabSize} is outside 1-4194304");
        Require(Positions is > 0 and <= 65536, $"n_positions {Positions} is outside 1-65536");
        Require(Activations.Contains(Activation), $"activation_function '{Activation}' is not one of {string.Join(", ", Activations)}");
        Require(LayerNormEps is > 0 and < 1, $"layer_norm_epsilon {LayerNormEps} is outside (0, 1)");
        Require(PadTokenId is null || (PadTokenId >= 0 && PadTokenId < VocabSize), $"pad_token_id {PadTokenId} is outside the vocabulary");
        return problems;
    }

    /// <summary>config.json in Hugging Face's form (what a merged model of a base without one is written with).</summary>
    public string ToJson(IReadOnlyList<string>? architectures = null)
    {
        var json = new JsonObject
        {
            ["model_type"] = ModelType,
            ["vocab_size"] = VocabSize,
            ["n_embd"] = HiddenSize,
            ["n_layer"] = NumLayers,
            ["n_head"] = NumHeads,
            ["n_inner"] = InnerSize,
            ["n_positions"] = Positions,
            ["n_ctx"] = Positions,
            ["activation_function"] = Activation,
            ["layer_norm_epsilon"] = LayerNormEps,
        };
        if (PadTokenId is { } pad) json["pad_token_id"] = pad;
        if (architectures is not null) json["architectures"] = new JsonArray([.. architectures.Select(a => (JsonNode)a!)]);
        return json.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Reads Hugging Face's config.json; throws <see cref="CheckpointFormatException"/> naming what is wrong.</summary>
    /// <param name="shapes">The config read off the weights: what config.json leaves out.</param>
    public static Gpt2Config Parse(string json, Gpt2Config shapes)
    {
        Gpt2Config config;
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.TryGetProperty("model_type", out var t) && t.GetString() is { } type && type != ModelType)
                throw new CheckpointFormatException($"config.json is for model_type '{type}', not gpt2");
            int Int(string name, int fallback) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : fallback;
            int hidden = Int("n_embd", shapes.HiddenSize);
            config = new Gpt2Config(Int("vocab_size", shapes.VocabSize), hidden, Int("n_layer", shapes.NumLayers), Int("n_head", shapes.NumHeads),
                Int("n_inner", 4 * hidden), Int("n_positions", shapes.Positions),
                root.TryGetProperty("layer_norm_epsilon", out var eps) ? eps.GetDouble() : 1e-5,
                root.TryGetProperty("activation_function", out var act) ? act.GetString() ?? "" : "gelu_new",
                root.TryGetProperty("pad_token_id", out var pad) && pad.ValueKind == JsonValueKind.Number ? pad.GetInt32() : null);
            foreach (var unsupported in new[] { "scale_attn_by_inverse_layer_idx", "reorder_and_upcast_attn" })
                if (root.TryGetProperty(unsupported, out var flag) && flag.ValueKind == JsonValueKind.True)
                    throw new CheckpointFormatException($"config.json sets {unsupported}, which this service does not run");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new CheckpointFormatException($"config.json is not a GPT-2 config: {e.Message}");
        }
        if (config.Problems() is { Count: > 0 } problems) throw new CheckpointFormatException($"config.json: {string.Join("; ", problems)}");
        return config;
    }
}
