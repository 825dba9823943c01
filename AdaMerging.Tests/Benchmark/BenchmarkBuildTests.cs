using System.Security.Cryptography;
using AdaMerging.Benchmark;
using AdaMerging.Tests.Support;

namespace AdaMerging.Tests.Benchmark;

public sealed class BenchmarkBuildTests
{
    private static BenchmarkSettings Tiny(int seed) => new()
    {
        Seed = seed, Tasks = "mnist,digits_inverted", Width = 32, Layers = 1, GlyphImages = 128, PretrainSteps = 6, PretrainBatch = 16,
        PrototypesPerClass = 3, FineTuneSteps = 4, FineTuneBatch = 16, TestImagesPerTask = 30, ValidationImagesPerTask = 40,
    };

    [Fact]
    public void The_same_seed_builds_the_same_bytes_and_another_seed_does_not()
    {
        using var dir = new TempDirectory();
        SyntheticRawData.Write(Path.Combine(dir.Path, "raw"));
        string Build(int seed, string into) => new BenchmarkBuilder(Tiny(seed), Path.Combine(dir.Path, "raw"), Path.Combine(dir.Path, into)).Build();
        var first = Hashes(Build(1, "a"));
        var again = Hashes(Build(1, "b"));
        var other = Hashes(Build(2, "c"));
        Assert.Equal(["base/config.json", "base/model.safetensors", "datasets/digits_inverted.safetensors", "datasets/mnist.safetensors",
            "heads/digits_inverted.safetensors", "heads/mnist.safetensors", "tasks/digits_inverted/config.json",
            "tasks/digits_inverted/model.safetensors", "tasks/mnist/config.json", "tasks/mnist/model.safetensors"], first.Keys);
        Assert.Equal(first, again);
        Assert.NotEqual(first["base/model.safetensors"], other["base/model.safetensors"]);
        Assert.NotEqual(first["tasks/mnist/model.safetensors"], other["tasks/mnist/model.safetensors"]);
    }

    private static SortedDictionary<string, string> Hashes(string directory) => new(
        Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) != "build.json")    // holds the build's duration
            .ToDictionary(f => Path.GetRelativePath(directory, f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))),
        StringComparer.Ordinal);
}
