using SkiaSharp;

namespace AdaMerging.Benchmark;

/// <summary>
/// The pre-training pretext: Latin letters (no digits: digits are three of the eight tasks) rendered from the system's
/// TrueType fonts, white on black like MNIST, with random font, size, rotation, shift and stroke.
/// </summary>
public static class Glyphs
{
    public const string Letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    public static IReadOnlyList<string> FontFiles(string root = "/usr/share/fonts")
    {
        var files = Directory.Exists(root)
            ? Directory.EnumerateFiles(root, "*.ttf", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList()
            : [];
        return files.Count > 0 ? files
            : throw new InvalidOperationException($"no TrueType fonts under {root}; install fonts-dejavu-core (scripts/prerequisites.sh fonts)");
    }

    public static GrayImages Render(int count, int size, int seed) => Render(count, size, seed, out _, out _);

    /// <summary>The same, with each image's font as an index into <paramref name="fontFiles"/> (the files SkiaSharp opened).</summary>
    public static GrayImages Render(int count, int size, int seed, out int[] fonts, out IReadOnlyList<string> fontFiles)
    {
        var random = new Random(seed);
        var opened = FontFiles().Select(f => (File: f, Face: SKTypeface.FromFile(f))).Where(t => t.Face is not null).ToList();
        var typefaces = opened.Select(t => t.Face).ToList();
        fontFiles = [.. opened.Select(t => t.File)];
        var pixels = new byte[count * size * size];
        var labels = new int[count];
        fonts = new int[count];
        var info = new SKImageInfo(size, size, SKColorType.Gray8, SKAlphaType.Opaque);
        using var bitmap = new SKBitmap(info);
        using var canvas = new SKCanvas(bitmap);
        using var paint = new SKPaint { Color = SKColors.White, IsAntialias = true };
        for (int i = 0; i < count; i++)
        {
            int label = random.Next(Letters.Length);
            labels[i] = label;
            fonts[i] = random.Next(typefaces.Count);
            using var font = new SKFont(typefaces[fonts[i]], size * (0.6f + 0.3f * random.NextSingle()));
            var text = Letters[label].ToString();
            font.MeasureText(text, out var bounds);
            paint.Style = random.Next(3) == 0 ? SKPaintStyle.StrokeAndFill : SKPaintStyle.Fill;
            paint.StrokeWidth = 0.5f + 1.5f * random.NextSingle();
            canvas.Clear(SKColors.Black);
            canvas.Save();
            canvas.Translate(size / 2f + Shift(random, size), size / 2f + Shift(random, size));
            canvas.RotateDegrees(30 * (random.NextSingle() - 0.5f));
            canvas.DrawText(text, -bounds.MidX, -bounds.MidY, SKTextAlign.Left, font, paint);
            canvas.Restore();
            bitmap.GetPixelSpan().CopyTo(pixels.AsSpan(i * size * size));
        }
        foreach (var t in typefaces) t.Dispose();
        return new GrayImages(pixels, count, size, size, labels);
    }

    private static float Shift(Random random, int size) => size * 0.1f * (random.NextSingle() * 2 - 1);
}
