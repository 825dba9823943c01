using System.Text.Json;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Heads;

namespace AdaMerging.Domain.Architectures.Clip;

/// <summary>
/// The CLIP vision transformer's shape, as Hugging Face's CLIPVisionConfig (or CLIPConfig's vision_config) gives it.
/// Missing fields take Hugging Face's defaults (ViT-B/32).
/// </summary>
public sealed record ClipVisionConfig(
    int HiddenSize = 768,
    int IntermediateSize = 3072,
    int NumHiddenLayers = 12,
    int NumAttentionHeads = 12,
    int ImageSize = 224,
    int PatchSize = 32,
    int NumChannels = 3,
    string HiddenAct = "quick_gelu",
    double LayerNormEps = 1e-5,
    int ProjectionDim = 512)
{
    public int PatchesPerSide => ImageSize / PatchSize;

    /// <summary>Patches plus the class token.</summary>
    public int Positions => PatchesPerSide * PatchesPerSide + 1;

    public string Describe() =>
        $"CLIP ViT: hidden {HiddenSize}, {NumHiddenLayers} layers, {NumAttentionHeads} heads, patch {PatchSize}, image {ImageSize}, {HiddenAct}";

    /// <summary>Every way the config is inconsistent in itself; empty when sound.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        void Require(bool ok, string problem) { if (!ok) problems.Add(problem); }
        Require(HiddenSize is > 0 and <= 16384, $"hidden_size {HiddenSize} is outside 1-16384");
        Require(IntermediateSize is > 0 and <= 65536, $"intermediate_size {IntermediateSize} is outside 1-65536");
        Require(NumHiddenLayers is > 0 and <= 256, $"num_hidden_layers {NumHiddenLayers} is outside 1-256");
        Require(NumAttentionHeads > 0 && HiddenSize % NumAttentionHeads == 0, $"hidden_size {HiddenSize} is not divisible by num_attention_heads {NumAttentionHeads}");
        Require(PatchSize > 0 && ImageSize > 0 && ImageSize % PatchSize == 0, $"image_size {ImageSize} is not a multiple of patch_size {PatchSize}");
        Require(NumChannels is 1 or 3 or 4, $"num_channels {NumChannels} is not 1, 3 or 4");
        Require(HiddenAct is "quick_gelu" or "gelu", $"hidden_act '{HiddenAct}' is not quick_gelu or gelu");
        Require(LayerNormEps is > 0 and < 1, $"layer_norm_eps {LayerNormEps} is outside (0, 1)");
        Require(ProjectionDim > 0, $"projection_dim {ProjectionDim} is not positive");
        return problems;
    }

    /// <summary>config.json in Hugging Face's CLIPVisionConfig form.</summary>
    public string ToJson() => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["model_type"] = "clip_vision_model",
        ["hidden_size"] = HiddenSize,
        ["intermediate_size"] = IntermediateSize,
        ["num_hidden_layers"] = NumHiddenLayers,
        ["num_attention_heads"] = NumAttentionHeads,
        ["image_size"] = ImageSize,
        ["patch_size"] = PatchSize,
        ["num_channels"] = NumChannels,
        ["hidden_act"] = HiddenAct,
        ["layer_norm_eps"] = LayerNormEps,
        ["projection_dim"] = ProjectionDim,
    });

    /// <summary>Reads config.json; throws <see cref="CheckpointFormatException"/> naming what is wrong.</summary>
    public static ClipVisionConfig Parse(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new CheckpointFormatException("config.json is not a JSON object");
            var vision = root.TryGetProperty("vision_config", out var v) && v.ValueKind == JsonValueKind.Object ? v : root;
            var d = new ClipVisionConfig();
            var config = new ClipVisionConfig(
                Int(vision, "hidden_size", d.HiddenSize),
                Int(vision, "intermediate_size", d.IntermediateSize),
                Int(vision, "num_hidden_layers", d.NumHiddenLayers),
                Int(vision, "num_attention_heads", d.NumAttentionHeads),
                Int(vision, "image_size", d.ImageSize),
                Int(vision, "patch_size", d.PatchSize),
                Int(vision, "num_channels", d.NumChannels),
                Str(vision, "hidden_act", d.HiddenAct),
                Num(vision, "layer_norm_eps", d.LayerNormEps),
                Int(vision, "projection_dim", Int(root, "projection_dim", d.ProjectionDim)));
            var problems = config.Problems();
            return problems.Count == 0 ? config : throw new CheckpointFormatException("config.json: " + string.Join("; ", problems));
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException($"config.json is not valid JSON ({e.Message})", e);
        }
    }

    private static int Int(JsonElement e, string name, int fallback) => ConfigFields.WholeNumber(e, name, fallback, "config.json");

    private static double Num(JsonElement e, string name, double fallback) => ConfigFields.Number(e, name, fallback, "config.json");

    private static string Str(JsonElement e, string name, string fallback) => ConfigFields.Text(e, name, fallback, "config.json");
}

/// <summary>Fields of a config file (config.json, open_clip_config.json) with their defaults; a field of the wrong kind is refused naming the file.</summary>
public static class ConfigFields
{
    public static int WholeNumber(JsonElement e, string name, int fallback, string file) =>
        !e.TryGetProperty(name, out var p) ? fallback
        : p.ValueKind == JsonValueKind.Number && p.TryGetInt32(out var v) ? v
        : throw new CheckpointFormatException($"{file}: {name} must be an integer");

    public static double Number(JsonElement e, string name, double fallback, string file) =>
        !e.TryGetProperty(name, out var p) ? fallback
        : p.ValueKind == JsonValueKind.Number ? p.GetDouble()
        : throw new CheckpointFormatException($"{file}: {name} must be a number");

    public static string Text(JsonElement e, string name, string fallback, string file) =>
        !e.TryGetProperty(name, out var p) ? fallback
        : p.ValueKind == JsonValueKind.String ? p.GetString()!
        : throw new CheckpointFormatException($"{file}: {name} must be a string");
}
