using AdaMerging.Domain.Datasets;
using SkiaSharp;
using TorchSharp;

namespace AdaMerging.Domain.Architectures.Clip;

/// <summary>
/// CLIP's image preprocessing: shorter side resized to the image size (bicubic, Catmull-Rom as PIL's), centre crop,
/// scale to [0, 1], normalise with CLIP's mean and std.
/// </summary>
public static class ClipPreprocessing
{
    /// <summary>CLIP's own mean and std per channel.</summary>
    public static readonly ImageNormalization Clip = new([0.48145466f, 0.4578275f, 0.40821073f], [0.26862954f, 0.26130258f, 0.27577711f]);

    private static readonly TorchSharp.Scalar Byte = 255f.ToScalar();

    /// <summary>uint8 [N, C, H, W] → normalised float32; channels beyond CLIP's three use the last mean and std.</summary>
    public static torch.Tensor Normalize(torch.Tensor pixels) => Normalize(pixels, Clip);

    /// <summary>The same with another mean and std per channel (a checkpoint's own, open_clip's preprocess_cfg).</summary>
    public static torch.Tensor Normalize(torch.Tensor pixels, ImageNormalization normalization)
    {
        using var scope = torch.NewDisposeScope();
        long channels = pixels.shape[1];
        var mean = torch.tensor(Enumerable.Range(0, (int)channels).Select(c => normalization.Mean[Math.Min(c, 2)]).ToArray()).reshape(1, channels, 1, 1);
        var std = torch.tensor(Enumerable.Range(0, (int)channels).Select(c => normalization.Std[Math.Min(c, 2)]).ToArray()).reshape(1, channels, 1, 1);
        // Explicit Scalars the process keeps alive, not the implicit ones of `/ 255f` and `-` (RootedScalars says why).
        return pixels.to_type(torch.ScalarType.Float32).div(Byte).add(mean, Compute.RootedScalars.MinusOne).div(std).MoveToOuterDisposeScope();
    }

    /// <summary>One decoded image as a uint8 [3, size, size] tensor.</summary>
    public static torch.Tensor ResizeAndCrop(SKBitmap image, int size)
    {
        double scale = (double)size / Math.Min(image.Width, image.Height);
        int w = Math.Max(size, (int)Math.Round(image.Width * scale)), h = Math.Max(size, (int)Math.Round(image.Height * scale));
        var info = new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var resized = image.Resize(info, new SKSamplingOptions(SKCubicResampler.CatmullRom))
            ?? throw new InvalidOperationException("the image could not be resized");
        int left = (w - size) / 2, top = (h - size) / 2;
        var rgb = new byte[3 * size * size];
        var pixels = resized.GetPixelSpan();
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                int src = ((top + y) * w + left + x) * 4;
                int dst = y * size + x;
                rgb[dst] = pixels[src];
                rgb[size * size + dst] = pixels[src + 1];
                rgb[2 * size * size + dst] = pixels[src + 2];
            }
        return torch.tensor(rgb, [3, size, size]);
    }
}

/// <summary>CLIP's preprocessing at one image size, as an image model's preparation of its images.</summary>
public sealed class ClipImages(int imageSize, ImageNormalization? normalization = null) : IImagePreparation
{
    public int ImageSize { get; } = imageSize;

    public torch.Tensor ResizeAndCrop(SKBitmap image) => ClipPreprocessing.ResizeAndCrop(image, ImageSize);

    public torch.Tensor Normalize(torch.Tensor pixels) => ClipPreprocessing.Normalize(pixels, normalization ?? ClipPreprocessing.Clip);
}

/// <summary>An image model's mean and std per channel (three values each; channels beyond three use the last).</summary>
public sealed record ImageNormalization(float[] Mean, float[] Std);
