using System.Text.Json;
using AdaMerging.Domain.Checkpoints;

namespace AdaMerging.Domain.Architectures.Clip;

/// <summary>
/// open_clip's own config file, published beside its weights (open_clip_config.json): the vision tower's shape under
/// model_cfg.vision_cfg (heads = width / head_width, head_width 64 unless given; GELU unless model_cfg.quick_gelu),
/// the projection's width (embed_dim), and the image mean and std under preprocess_cfg. Read when no config.json
/// came, so an open_clip repository's folder runs with the shape its authors trained, not one guessed from shapes.
/// </summary>
public sealed record OpenClipConfig(ClipVisionConfig Vision, ImageNormalization? Normalization)
{
    public const string FileName = "open_clip_config.json";

    public static OpenClipConfig Read(string path)
    {
        if (new FileInfo(path).Length > 1 << 20) throw new CheckpointFormatException($"{FileName} is larger than 1 MiB");
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            var root = document.RootElement;
            if (!root.TryGetProperty("model_cfg", out var model) || model.ValueKind != JsonValueKind.Object
                || !model.TryGetProperty("vision_cfg", out var vision) || vision.ValueKind != JsonValueKind.Object)
                throw new CheckpointFormatException($"{FileName} has no model_cfg.vision_cfg object");
            int width = Int(vision, "width", 768), headWidth = Int(vision, "head_width", 64);
            double mlpRatio = ConfigFields.Number(vision, "mlp_ratio", 4.0, FileName);
            bool quickGelu = model.TryGetProperty("quick_gelu", out var q) && q.ValueKind == JsonValueKind.True;
            var config = new ClipVisionConfig(
                HiddenSize: width,
                IntermediateSize: (int)(width * mlpRatio),
                NumHiddenLayers: Int(vision, "layers", 12),
                NumAttentionHeads: headWidth > 0 ? Math.Max(1, width / headWidth) : 0,
                ImageSize: Int(vision, "image_size", 224),
                PatchSize: Int(vision, "patch_size", 32),
                HiddenAct: quickGelu ? "quick_gelu" : "gelu",
                ProjectionDim: Int(model, "embed_dim", 512));
            var problems = config.Problems();
            if (problems.Count > 0) throw new CheckpointFormatException($"{FileName}: {string.Join("; ", problems)}");
            ImageNormalization? normalization = null;
            if (root.TryGetProperty("preprocess_cfg", out var pre) && pre.ValueKind == JsonValueKind.Object)
            {
                // What it leaves out is CLIP's.
                var (mean, std) = (Floats(pre, "mean"), Floats(pre, "std"));
                if (std is not null && std.Any(s => s <= 0)) throw new CheckpointFormatException($"{FileName}: preprocess_cfg.std must be positive");
                if (mean is not null || std is not null) normalization = new ImageNormalization(mean ?? ClipPreprocessing.Clip.Mean, std ?? ClipPreprocessing.Clip.Std);
            }
            return new OpenClipConfig(config, normalization);
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException($"{FileName} is not valid JSON ({e.Message})", e);
        }
    }

    private static int Int(JsonElement e, string name, int fallback) => ConfigFields.WholeNumber(e, name, fallback, FileName);

    private static float[]? Floats(JsonElement e, string name) =>
        !e.TryGetProperty(name, out var p) ? null
        : p.ValueKind == JsonValueKind.Array && p.GetArrayLength() == 3 && p.EnumerateArray().All(x => x.ValueKind == JsonValueKind.Number)
            ? p.EnumerateArray().Select(x => x.GetSingle()).ToArray()
            : throw new CheckpointFormatException($"{FileName}: preprocess_cfg.{name} must be three numbers");
}
