using System.Text.Json.Nodes;
using System.Text.Json;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Heads;
using AdaMerging.Domain.Tensors;

namespace AdaMerging.Domain.Architectures.Clip;

/// <summary>
/// The config.json of a full Hugging Face CLIPModel: the base's own when it came with one, else a CLIPConfig whose
/// text part is read off the text tower's shapes (heads as hidden/64, as for the vision tower).
/// </summary>
public static class FullClipConfig
{
    public static string Json(ModelFolder folder, ClipVisionConfig vision)
    {
        if (folder.ConfigJson is { } own && JsonNode.Parse(own) is JsonObject o && o.ContainsKey("text_config")) return own;
        using var w = folder.View();
        var token = Shape(w, ClipTextLayout.TokenEmbedding);
        var positions = Shape(w, ClipTextLayout.PositionEmbedding);
        var fc1 = Shape(w, "text_model.encoder.layers.0.mlp.fc1.weight");
        int layers = 0;
        while (w.Find($"text_model.encoder.layers.{layers}.mlp.fc1.weight") is not null) layers++;
        var projection = w.Find(ClipTextLayout.Projection);
        var config = new JsonObject
        {
            ["architectures"] = new JsonArray("CLIPModel"),
            ["model_type"] = "clip",
            ["projection_dim"] = projection is null ? vision.ProjectionDim : projection.Shape[0],
            ["text_config"] = new JsonObject
            {
                ["model_type"] = "clip_text_model",
                ["vocab_size"] = token[0],
                ["hidden_size"] = token[1],
                ["intermediate_size"] = fc1[0],
                ["num_hidden_layers"] = layers,
                ["num_attention_heads"] = Math.Max(1, token[1] / 64),
                ["max_position_embeddings"] = positions[0],
                ["hidden_act"] = vision.HiddenAct,
                ["layer_norm_eps"] = vision.LayerNormEps,
            },
            ["vision_config"] = JsonNode.Parse(vision.ToJson()),
        };
        return config.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private static long[] Shape(ITensorCatalog catalog, string name) =>
        catalog.Find(name)?.Shape.ToArray() ?? throw new CheckpointFormatException($"the text tower lacks '{name}'");
}
