using System.IO.Compression;
using System.Text;

namespace AdaMerging.Tests.Benchmark;

/// <summary>
/// A raw-data folder in exactly the files bench/fetch-data.sh fetches (IDX for MNIST, gzipped IDX for Fashion-MNIST,
/// scikit-learn's digits CSV), filled with learnable synthetic images: class c is a bright bar at row 2c + 4.
/// </summary>
public static class SyntheticRawData
{
    public static void Write(string root, int train = 700, int test = 200, int digits = 620)
    {
        var random = new Random(5);
        Directory.CreateDirectory(Path.Combine(root, "mnist"));
        Directory.CreateDirectory(Path.Combine(root, "fashion"));
        Directory.CreateDirectory(Path.Combine(root, "digits"));
        foreach (var (folder, gz) in new[] { ("mnist", false), ("fashion", true) })
            foreach (var (split, n) in new[] { ("train", train), ("t10k", test) })
            {
                var labels = Enumerable.Range(0, n).Select(_ => (byte)random.Next(10)).ToArray();
                WriteIdx(Path.Combine(root, folder, $"{split}-images-idx3-ubyte{(gz ? ".gz" : "")}"), 0x803, [n, 28, 28], Bars(labels, 28, random));
                WriteIdx(Path.Combine(root, folder, $"{split}-labels-idx1-ubyte{(gz ? ".gz" : "")}"), 0x801, [n], labels);
            }
        var csv = new StringBuilder();
        for (int i = 0; i < digits; i++)
        {
            int label = random.Next(10);
            var pixels = Enumerable.Range(0, 64).Select(p => p / 8 == label % 8 ? 16 : random.Next(3));
            csv.Append(string.Join(',', pixels.Select(v => $"{v}.0"))).Append(',').Append(label).Append('\n');
        }
        using var gzip = new GZipStream(File.Create(Path.Combine(root, "digits", "digits.csv.gz")), CompressionLevel.Fastest);
        gzip.Write(Encoding.ASCII.GetBytes(csv.ToString()));
    }

    public static byte[] Bars(byte[] labels, int size, Random random)
    {
        var pixels = new byte[labels.Length * size * size];
        for (int i = 0; i < labels.Length; i++)
            for (int p = 0; p < size * size; p++)
                pixels[i * size * size + p] = p / size == 2 * labels[i] + 4 ? (byte)255 : (byte)random.Next(40);
        return pixels;
    }

    public static void WriteIdx(string path, int magic, int[] shape, byte[] data)
    {
        using var file = File.Create(path);
        using var stream = path.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(file, CompressionLevel.Fastest) : (Stream)file;
        void BigEndian(int v) => stream.Write([(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v]);
        BigEndian(magic);
        foreach (var d in shape) BigEndian(d);
        stream.Write(data);
    }
}
