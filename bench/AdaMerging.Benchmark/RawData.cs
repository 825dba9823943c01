using System.Globalization;
using System.IO.Compression;

namespace AdaMerging.Benchmark;

/// <summary>Grayscale images [N, H, W] as bytes, with one label each.</summary>
public sealed record GrayImages(byte[] Pixels, int Count, int Height, int Width, int[] Labels)
{
    public int ImageBytes => Height * Width;

    public ReadOnlySpan<byte> Image(int i) => Pixels.AsSpan(i * ImageBytes, ImageBytes);

    public GrayImages Select(IReadOnlyList<int> indices)
    {
        var pixels = new byte[indices.Count * ImageBytes];
        for (int i = 0; i < indices.Count; i++) Image(indices[i]).CopyTo(pixels.AsSpan(i * ImageBytes));
        return new GrayImages(pixels, indices.Count, Height, Width, indices.Select(i => Labels[i]).ToArray());
    }
}

/// <summary>Readers for the raw files bench/fetch-data.sh puts in data/benchmark/raw.</summary>
public static class RawData
{
    public static GrayImages Idx(string images, string labels)
    {
        var pixels = ReadMaybeGzip(images);
        var labelBytes = ReadMaybeGzip(labels);
        if (BigEndian(pixels, 0) != 0x00000803 || BigEndian(labelBytes, 0) != 0x00000801)
            throw new InvalidDataException($"{images} or {labels} is not an IDX image/label file");
        int n = BigEndian(pixels, 4), h = BigEndian(pixels, 8), w = BigEndian(pixels, 12);
        if (BigEndian(labelBytes, 4) != n || pixels.Length != 16 + n * h * w) throw new InvalidDataException($"{images}: sizes disagree");
        return new GrayImages(pixels[16..], n, h, w, labelBytes[8..].Select(b => (int)b).ToArray());
    }

    /// <summary>scikit-learn's digits.csv.gz: 64 values in 0-16 then the label, one image a line.</summary>
    public static GrayImages Digits(string path)
    {
        using var reader = new StreamReader(new GZipStream(File.OpenRead(path), CompressionMode.Decompress));
        var pixels = new List<byte>();
        var labels = new List<int>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0) continue;
            var values = line.Split(',').Select(v => (int)double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            if (values.Length != 65) throw new InvalidDataException($"{path}: a line has {values.Length} values, not 65");
            pixels.AddRange(values.Take(64).Select(v => (byte)Math.Min(255, v * 255 / 16)));
            labels.Add(values[64]);
        }
        return new GrayImages([.. pixels], labels.Count, 8, 8, [.. labels]);
    }

    private static byte[] ReadMaybeGzip(string path)
    {
        using var file = File.OpenRead(path);
        using var stream = path.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(file, CompressionMode.Decompress) : (Stream)file;
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return memory.ToArray();
    }

    private static int BigEndian(byte[] bytes, int offset) =>
        bytes[offset] << 24 | bytes[offset + 1] << 16 | bytes[offset + 2] << 8 | bytes[offset + 3];
}
