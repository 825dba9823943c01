using System.Text.Json;
using System.Text.Json.Nodes;
using AdaMerging.Domain.Checkpoints;

namespace AdaMerging.Domain.Architectures.Bert;

/// <summary>
/// A BERT-family encoder's shape as Hugging Face's BertConfig / RobertaConfig gives it (MiniLM is a BERT): read from
/// config.json and checked against the weights, or read off the shapes when none came (docs/algorithm.md, "Text models").
/// </summary>
public sealed record BertConfig(
    string ModelType,
    int VocabSize,
    int HiddenSize,
    int NumHiddenLayers,
    int NumAttentionHeads,
    int IntermediateSize,
    int MaxPositionEmbeddings,
    int TypeVocabSize,
    string HiddenAct = "gelu",
    double LayerNormEps = 1e-12,
    int PadTokenId = 0)
{
    public const string Bert = "bert", Roberta = "roberta";

    /// <summary>The activations Hugging Face names that the encoder runs (exact GELU, its tanh approximation, ReLU).</summary>
    public static readonly IReadOnlySet<string> Activations = new HashSet<string>(StringComparer.Ordinal) { "gelu", "gelu_new", "gelu_pytorch_tanh", "relu" };

    public bool IsRoberta => ModelType == Roberta;

    /// <summary>
    /// Tokens an example may have: the position table's rows, less RoBERTa's offset (its positions count from
    /// padding_idx + 1, so 514 rows hold 512 tokens).
    /// </summary>
    public int MaxTokens => IsRoberta ? MaxPositionEmbeddings - PadTokenId - 1 : MaxPositionEmbeddings;

    public string Describe() =>
        $"{(IsRoberta ? "RoBERTa" : "BERT")} encoder: {NumHiddenLayers} layers, hidden {HiddenSize}, {NumAttentionHeads} heads, MLP {IntermediateSize}, vocabulary {VocabSize}, {MaxTokens} tokens";

    /// <summary>Every way the config is inconsistent in itself; empty when sound.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        void Require(bool ok, string problem) { if (!ok) problems.Add(problem); }
        Require(ModelType is Bert or Roberta, $"model_type '{ModelType}' is not bert or roberta");
        Require(HiddenSize is > 0 and <= 16384, $"hidden_size {HiddenSize} is outside 1-16384");
        Require(NumAttentionHeads > 0 && HiddenSize % NumAttentionHeads == 0, $"hidden_size {HiddenSize} is not a multiple of num_attention_heads {NumAttentionHeads}");
        Require(NumHiddenLayers is > 0 and <= 256, $"num_hidden_layers {NumHiddenLayers} is outside 1-256");
        Require(IntermediateSize is > 0 and <= 65536, $"intermediate_size {IntermediateSize} is outside 1-65536");
        Require(VocabSize is > 0 and <= 1 << 22, $"vocab_size {VocabSize} is outside 1-4194304");
        Require(MaxTokens is > 2 and <= 65536, $"max_position_embeddings {MaxPositionEmbeddings} leaves {MaxTokens} tokens, outside 3-65536");
        Require(TypeVocabSize is > 0 and <= 16, $"type_vocab_size {TypeVocabSize} is outside 1-16");
        Require(Activations.Contains(HiddenAct), $"hidden_act '{HiddenAct}' is not one of {string.Join(", ", Activations)}");
        Require(LayerNormEps is > 0 and < 1, $"layer_norm_eps {LayerNormEps} is outside (0, 1)");
        Require(PadTokenId >= 0 && PadTokenId < VocabSize, $"pad_token_id {PadTokenId} is outside the vocabulary");
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
            ["num_hidden_layers"] = NumHiddenLayers,
            ["num_attention_heads"] = NumAttentionHeads,
            ["intermediate_size"] = IntermediateSize,
            ["hidden_act"] = HiddenAct,
            ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["type_vocab_size"] = TypeVocabSize,
            ["layer_norm_eps"] = LayerNormEps,
            ["pad_token_id"] = PadTokenId,
        };
        if (architectures is not null) json["architectures"] = new JsonArray([.. architectures.Select(a => (JsonNode)a!)]);
        return json.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Reads Hugging Face's config.json; throws <see cref="CheckpointFormatException"/> naming what is wrong.</summary>
    /// <param name="shapes">The config read off the weights: what config.json leaves out (Hugging Face's defaults are BERT-base's, not the weights').</param>
    public static BertConfig Parse(string json, BertConfig shapes)
    {
        BertConfig config;
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            var type = root.TryGetProperty("model_type", out var t) ? t.GetString() ?? "" : shapes.ModelType;
            if (type is not (Bert or Roberta)) throw new CheckpointFormatException($"config.json is for model_type '{type}', not bert or roberta");
            int Int(string name, int fallback) => root.TryGetProperty(name, out var v) ? v.GetInt32() : fallback;
            config = new BertConfig(type, Int("vocab_size", shapes.VocabSize), Int("hidden_size", shapes.HiddenSize),
                Int("num_hidden_layers", shapes.NumHiddenLayers), Int("num_attention_heads", shapes.NumAttentionHeads),
                Int("intermediate_size", shapes.IntermediateSize), Int("max_position_embeddings", shapes.MaxPositionEmbeddings),
                Int("type_vocab_size", shapes.TypeVocabSize),
                root.TryGetProperty("hidden_act", out var act) ? act.GetString() ?? "" : "gelu",
                root.TryGetProperty("layer_norm_eps", out var eps) ? eps.GetDouble() : DefaultEps(type),
                Int("pad_token_id", DefaultPad(type)));
            if (root.TryGetProperty("position_embedding_type", out var positions) && positions.GetString() is { } p && p != "absolute")
                throw new CheckpointFormatException($"config.json position_embedding_type '{p}' is not absolute (the only kind run here)");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new CheckpointFormatException($"config.json is not a BERT or RoBERTa config: {e.Message}");
        }
        if (config.Problems() is { Count: > 0 } problems) throw new CheckpointFormatException($"config.json: {string.Join("; ", problems)}");
        return config;
    }

    /// <summary>Hugging Face's layer-norm ε per model type (BERT 1e-12, RoBERTa 1e-5).</summary>
    public static double DefaultEps(string modelType) => modelType == Roberta ? 1e-5 : 1e-12;

    /// <summary>Hugging Face's padding id per model type (BERT's [PAD] 0, RoBERTa's &lt;pad&gt; 1).</summary>
    public static int DefaultPad(string modelType) => modelType == Roberta ? 1 : 0;
}
