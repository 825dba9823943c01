using System.Text.Json;
using System.Text.Json.Nodes;
using AdaMerging.Domain.Checkpoints;

namespace AdaMerging.Domain.Architectures.Llama;

/// <summary>
/// A decoder of the Llama family (Llama 2 and 3, Mistral, Qwen2) as Hugging Face's configs give it: read from
/// config.json and checked against the weights, or read off the shapes when none came (docs/algorithm.md, "Decoder
/// language models"). Qwen2's q, k and v biases come with its model type; Llama's with attention_bias.
/// </summary>
public sealed record LlamaConfig(
    string ModelType,
    int VocabSize,
    int HiddenSize,
    int IntermediateSize,
    int NumLayers,
    int NumHeads,
    int NumKeyValueHeads,
    int HeadDim,
    double RmsNormEps = 1e-6,
    double RopeTheta = 10000,
    RopeScaling? Scaling = null,
    int MaxPositions = 4096,
    bool TieWordEmbeddings = false,
    bool AttentionBias = false,
    bool MlpBias = false,
    int? SlidingWindow = null,
    int? PadTokenId = null)
{
    /// <summary>The model types it runs: each the same decoder, differing in defaults and biases.</summary>
    public static readonly IReadOnlySet<string> ModelTypes = new HashSet<string>(StringComparer.Ordinal) { "llama", "mistral", "qwen2" };

    /// <summary>Whether q, k and v carry biases (Qwen2 always; Llama when attention_bias); o_proj has one only with attention_bias.</summary>
    public bool QkvBias => AttentionBias || ModelType == "qwen2";

    public string Describe() =>
        $"{ModelType} decoder: {NumLayers} layers, hidden {HiddenSize}, {NumHeads} heads of {HeadDim} ({NumKeyValueHeads} key-value), MLP {IntermediateSize}, vocabulary {VocabSize}";

    /// <summary>Every way the config is inconsistent in itself; empty when sound.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        void Require(bool ok, string problem) { if (!ok) problems.Add(problem); }
        Require(ModelTypes.Contains(ModelType), $"model_type '{ModelType}' is not one of {string.Join(", ", ModelTypes)}");
        Require(HiddenSize is > 0 and <= 65536, $"hidden_size {HiddenSize} is outside 1-65536");
        Require(IntermediateSize is > 0 and <= 262144, $"intermediate_size {IntermediateSize} is outside 1-262144");
        Require(NumLayers is > 0 and <= 512, $"num_hidden_layers {NumLayers} is outside 1-512");
        Require(NumHeads > 0 && NumKeyValueHeads > 0 && NumHeads % NumKeyValueHeads == 0,
            $"num_attention_heads {NumHeads} is not a multiple of num_key_value_heads {NumKeyValueHeads}");
        Require(HeadDim > 0 && HeadDim % 2 == 0, $"head_dim {HeadDim} is not a positive even number (rotary embeddings rotate pairs)");
        Require(VocabSize is > 0 and <= 1 << 22, $"vocab_size {VocabSize} is outside 1-4194304");
        Require(RmsNormEps is > 0 and < 1, $"rms_norm_eps {RmsNormEps} is outside (0, 1)");
        Require(RopeTheta > 0, $"rope_theta {RopeTheta} is not positive");
        Require(SlidingWindow is null or > 0, $"sliding_window {SlidingWindow} is not positive");
        Require(PadTokenId is null || (PadTokenId >= 0 && PadTokenId < VocabSize), $"pad_token_id {PadTokenId} is outside the vocabulary");
        if (Scaling?.Problem() is { } scaling) problems.Add(scaling);
        return problems;
    }

    /// <summary>config.json in Hugging Face's form (what a merged model of a base without one is written with).</summary>
    public string ToJson(IReadOnlyList<string>? architectures = null)
    {
        var json = new JsonObject
        {
            ["model_type"] = ModelType,
            ["vocab_size"] = VocabSize,
            ["hidden_size"] = HiddenSize,
            ["intermediate_size"] = IntermediateSize,
            ["num_hidden_layers"] = NumLayers,
            ["num_attention_heads"] = NumHeads,
            ["num_key_value_heads"] = NumKeyValueHeads,
            ["head_dim"] = HeadDim,
            ["rms_norm_eps"] = RmsNormEps,
            ["rope_theta"] = RopeTheta,
            ["max_position_embeddings"] = MaxPositions,
            ["tie_word_embeddings"] = TieWordEmbeddings,
            ["attention_bias"] = AttentionBias,
            ["mlp_bias"] = MlpBias,
            ["hidden_act"] = "silu",
        };
        if (Scaling is not null) json["rope_scaling"] = Scaling.ToJson();
        if (SlidingWindow is { } window) json["sliding_window"] = window;
        if (PadTokenId is { } pad) json["pad_token_id"] = pad;
        if (architectures is not null) json["architectures"] = new JsonArray([.. architectures.Select(a => (JsonNode)a!)]);
        return json.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Reads Hugging Face's config.json; throws <see cref="CheckpointFormatException"/> naming what is wrong.</summary>
    /// <param name="shapes">The config read off the weights: what config.json leaves out.</param>
    public static LlamaConfig Parse(string json, LlamaConfig shapes)
    {
        LlamaConfig config;
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            string type = root.TryGetProperty("model_type", out var t) && t.GetString() is { } given ? given : shapes.ModelType;
            if (!ModelTypes.Contains(type)) throw new CheckpointFormatException($"config.json is for model_type '{type}', not one of {string.Join(", ", ModelTypes)}");
            int Int(string name, int fallback) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : fallback;
            double Number(string name, double fallback) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : fallback;
            bool Flag(string name, bool fallback) => root.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : fallback;
            int hidden = Int("hidden_size", shapes.HiddenSize), heads = Int("num_attention_heads", shapes.NumHeads);
            if (root.TryGetProperty("hidden_act", out var act) && act.GetString() is { } activation && activation != "silu")
                throw new CheckpointFormatException($"config.json's hidden_act '{activation}' is not silu, the only one this decoder runs");
            bool windowed = type == "mistral" || Flag("use_sliding_window", false);
            config = new LlamaConfig(type, Int("vocab_size", shapes.VocabSize), hidden, Int("intermediate_size", shapes.IntermediateSize),
                Int("num_hidden_layers", shapes.NumLayers), heads, Int("num_key_value_heads", heads),
                Int("head_dim", heads > 0 ? hidden / heads : shapes.HeadDim), Number("rms_norm_eps", 1e-6), Number("rope_theta", 10000),
                root.TryGetProperty("rope_scaling", out var scaling) && scaling.ValueKind == JsonValueKind.Object ? RopeScaling.Parse(scaling) : null,
                Int("max_position_embeddings", 4096), Flag("tie_word_embeddings", shapes.TieWordEmbeddings), Flag("attention_bias", false),
                Flag("mlp_bias", false), windowed && root.TryGetProperty("sliding_window", out var w) && w.ValueKind == JsonValueKind.Number ? w.GetInt32() : null,
                root.TryGetProperty("pad_token_id", out var pad) && pad.ValueKind == JsonValueKind.Number ? pad.GetInt32() : null);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new CheckpointFormatException($"config.json is not a Llama-family config: {e.Message}");
        }
        if (config.Problems() is { Count: > 0 } problems) throw new CheckpointFormatException($"config.json: {string.Join("; ", problems)}");
        return config;
    }
}
