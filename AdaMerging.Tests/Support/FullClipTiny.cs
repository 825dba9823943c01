using AdaMerging.Tests.Support;
using AdaMerging.Domain.Architectures.Clip;
using System.Text.Json.Nodes;
using AdaMerging.Domain.Checkpoints;
using TorchSharp;

namespace AdaMerging.Tests.Support;

/// <summary>
/// Checkpoints as FusionBench publishes them, at the tiny fixture's size: a full Hugging Face CLIPModel base (the
/// fixture's vision tower and projection, a random text tower, text projection and logit scale, a CLIPConfig) and
/// per task a CLIPVisionModel saved alone (vision_model.* only, no projection, no text tower).
/// </summary>
public static class FullClipTiny
{
    private const int TextWidth = 16, Vocabulary = 40, Context = 8;

    public static readonly string[] TextTensors =
    [
        ClipTextLayout.TokenEmbedding, ClipTextLayout.PositionEmbedding,
        "text_model.encoder.layers.0.self_attn.q_proj.weight", "text_model.encoder.layers.0.mlp.fc1.weight",
        "text_model.encoder.layers.0.mlp.fc2.weight", "text_model.final_layer_norm.weight", "text_projection.weight", "logit_scale",
    ];

    /// <summary>Writes model.safetensors and config.json of the base into <paramref name="directory"/>; returns the files.</summary>
    public static Dictionary<string, string> WriteBase(string directory, ulong seed = 5)
    {
        Directory.CreateDirectory(directory);
        var g = new torch.Generator(seed);
        using var vision = ClipTiny.OpenHuggingFace();
        var tensors = vision.Weights.Tensors.ToDictionary(t => t.Name, t => vision.Weights.Read(t.Name));
        long[][] shapes =
        [
            [Vocabulary, TextWidth], [Context, TextWidth], [TextWidth, TextWidth], [4 * TextWidth, TextWidth], [TextWidth, 4 * TextWidth], [TextWidth],
            [ClipTiny.Config.ProjectionDim, TextWidth], [],
        ];
        for (int i = 0; i < TextTensors.Length; i++) tensors[TextTensors[i]] = torch.randn(shapes[i], generator: g);
        var model = Path.Combine(directory, "model.safetensors");
        TestCheckpoints.Save(model, tensors);
        var config = new JsonObject
        {
            ["architectures"] = new JsonArray("CLIPModel"),
            ["model_type"] = "clip",
            ["projection_dim"] = ClipTiny.Config.ProjectionDim,
            ["text_config"] = new JsonObject { ["hidden_size"] = TextWidth, ["vocab_size"] = Vocabulary, ["max_position_embeddings"] = Context },
            ["vision_config"] = JsonNode.Parse(File.ReadAllText(ClipTiny.File("config.json"))),
        };
        var configPath = Path.Combine(directory, "config.json");
        File.WriteAllText(configPath, config.ToJsonString());
        return new() { ["model.safetensors"] = model, ["config.json"] = configPath };
    }

    /// <summary>A fine-tuned vision tower alone: the fixture's vision_model.* plus noise, without projection.</summary>
    public static string WriteVisionTask(string path, torch.Generator g)
    {
        using var vision = ClipTiny.OpenHuggingFace();
        TestCheckpoints.Save(path, vision.Weights.Tensors.Where(t => t.Name.StartsWith(ClipVisionLayout.Prefix, StringComparison.Ordinal))
            .ToDictionary(t => t.Name, t => vision.Weights.Read(t.Name) is var w && w.is_floating_point() ? w.Plus(torch.randn(w.shape, generator: g).Times(0.05)) : w));
        return path;
    }
}
