using System.Text.Json;
using AdaMerging.Domain.Architectures.Clip;
using AdaMerging.Domain.Checkpoints;

namespace AdaMerging.Domain.Architectures.ResNet;

/// <summary>
/// How a ResNet wants its images: the size an image archive's pictures are resized and centre-cropped to, and the
/// mean and std per channel of [0, 1] pixels. From Hugging Face's preprocessor_config.json when it comes
/// (<c>crop_size</c> or <c>size.shortest_edge</c>, <c>image_mean</c>, <c>image_std</c>), else ImageNet's at 224.
/// Tensor datasets of uint8 pixels are normalised the same way at their own size (the network pools globally).
/// </summary>
public sealed record ResNetPreprocessing(int ImageSize, ImageNormalization Normalization)
{
    public const string FileName = "preprocessor_config.json";

    public static readonly ImageNormalization ImageNet = new([0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);

    public static readonly ResNetPreprocessing Default = new(224, ImageNet);

    public static ResNetPreprocessing Read(string path)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            var root = document.RootElement;
            int size = root.TryGetProperty("crop_size", out var crop) ? Side(crop)
                : root.TryGetProperty("size", out var s) ? Side(s) : Default.ImageSize;
            float[] Floats(string name, float[] fallback) => root.TryGetProperty(name, out var v) ? [.. v.EnumerateArray().Select(e => e.GetSingle())] : fallback;
            var mean = Floats("image_mean", ImageNet.Mean);
            var std = Floats("image_std", ImageNet.Std);
            if (size is < 1 or > 4096 || mean.Length != 3 || std.Length != 3 || std.Any(x => !(x > 0)))
                throw new CheckpointFormatException($"{FileName}: the image size must be 1-4096 and image_mean, image_std three values each (std positive)");
            return new ResNetPreprocessing(size, new ImageNormalization(mean, std));
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new CheckpointFormatException($"{FileName} is not a preprocessor config: {e.Message}");
        }
    }

    /// <summary>An int, or {height, width} (square only), or {shortest_edge}.</summary>
    private static int Side(JsonElement e) => e.ValueKind == JsonValueKind.Number ? e.GetInt32()
        : e.TryGetProperty("shortest_edge", out var edge) ? edge.GetInt32()
        : e.GetProperty("height").GetInt32() is var h && h == e.GetProperty("width").GetInt32() ? h
        : throw new FormatException("only square crops are supported");
}
