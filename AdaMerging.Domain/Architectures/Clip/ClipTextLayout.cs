using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Heads;
using AdaMerging.Domain.Tensors;

namespace AdaMerging.Domain.Architectures.Clip;

/// <summary>The CLIP text transformer's shape: read off its tensors, with heads, activation and epsilon from config.json when given.</summary>
public sealed record ClipTextConfig(int HiddenSize, int IntermediateSize, int NumHiddenLayers, int NumAttentionHeads, int Context,
    int VocabularySize, int ProjectionDim, string HiddenAct = "quick_gelu", double LayerNormEps = 1e-5);

/// <summary>
/// The tensors of a CLIP text tower in Hugging Face names (text_model.*, text_projection.weight, logit_scale); an
/// open_clip checkpoint's are mapped onto them by <see cref="OpenClipAsHuggingFace"/>.
/// </summary>
public static partial class ClipTextLayout
{
    public const string Prefix = "text_model.";
    public const string TokenEmbedding = Prefix + "embeddings.token_embedding.weight";
    public const string PositionEmbedding = Prefix + "embeddings.position_embedding.weight";
    public const string Projection = "text_projection.weight";
    public const string LogitScale = "logit_scale";

    /// <summary>What a checkpoint in Hugging Face names lacks to be a text tower a zero-shot head can be built with; empty when nothing.</summary>
    public static IReadOnlyList<string> Missing(ITensorCatalog hf)
    {
        string[] needed = [TokenEmbedding, PositionEmbedding, Prefix + "encoder.layers.0.mlp.fc1.weight", Prefix + "final_layer_norm.weight",
            Projection, LogitScale];
        return needed.Where(n => hf.Find(n) is null).ToList();
    }

    /// <summary>The text tower's config; <paramref name="configJson"/> (a CLIPConfig) supplies heads, activation and epsilon.</summary>
    public static ClipTextConfig Infer(ITensorCatalog hf, string? configJson)
    {
        var missing = Missing(hf);
        if (missing.Count > 0) throw new CheckpointFormatException($"the checkpoint has no complete CLIP text tower: it lacks {string.Join(", ", missing)}");
        var token = hf.Find(TokenEmbedding)!.Shape;
        var positions = hf.Find(PositionEmbedding)!.Shape;
        var fc1 = hf.Find(Prefix + "encoder.layers.0.mlp.fc1.weight")!.Shape;
        var projection = hf.Find(Projection)!.Shape;
        int layers = hf.Tensors.Select(t => LayerIndex().Match(t.Name)).Where(m => m.Success)
            .Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) + 1).DefaultIfEmpty(0).Max();
        int width = (int)token[1];
        var text = configJson is null ? null : (JsonNode.Parse(configJson) as JsonObject)?["text_config"] as JsonObject;
        var config = new ClipTextConfig(width, (int)fc1[0], layers, text?["num_attention_heads"]?.GetValue<int>() ?? Math.Max(1, width / 64),
            (int)positions[0], (int)token[0], (int)projection[0], text?["hidden_act"]?.GetValue<string>() ?? "quick_gelu",
            text?["layer_norm_eps"]?.GetValue<double>() ?? 1e-5);
        var problems = new List<string>();
        if (config.NumAttentionHeads < 1 || width % config.NumAttentionHeads != 0)
            problems.Add($"text hidden size {width} is not divisible by {config.NumAttentionHeads} heads");
        if (config.HiddenAct is not ("quick_gelu" or "gelu")) problems.Add($"text hidden_act '{config.HiddenAct}' is not quick_gelu or gelu");
        foreach (var (name, shape) in ExpectedShapes(config))
        {
            var t = hf.Find(name);
            if (t is null) problems.Add($"tensor '{name}' is missing");
            else if (!t.Shape.SequenceEqual(shape)) problems.Add($"tensor '{name}' has shape {t.ShapeText} where the text tower implies [{string.Join(", ", shape)}]");
        }
        if (problems.Count > 0) throw new CheckpointFormatException(string.Join("; ", problems));
        return config;
    }

    /// <summary>The shape every text tower tensor must have under <paramref name="c"/>.</summary>
    public static IEnumerable<(string Name, long[] Shape)> ExpectedShapes(ClipTextConfig c)
    {
        long d = c.HiddenSize, i = c.IntermediateSize;
        yield return (TokenEmbedding, [c.VocabularySize, d]);
        yield return (PositionEmbedding, [c.Context, d]);
        foreach (var block in ClipVisionLayout.BlockShapes(Prefix, c.NumHiddenLayers, d, i)) yield return block;
        yield return (Prefix + "final_layer_norm.weight", [d]);
        yield return (Prefix + "final_layer_norm.bias", [d]);
        yield return (Projection, [c.ProjectionDim, d]);
        yield return (LogitScale, []);
    }

    [GeneratedRegex(@"^text_model\.encoder\.layers\.(\d+)\.")]
    private static partial Regex LayerIndex();
}
