using AdaMerging.Domain.Architectures.Clip;
using System.Text.Json;
using AdaMerging.Domain.Checkpoints;

namespace AdaMerging.Benchmark;

/// <summary>Everything that decides the benchmark's files; the build is cached under a folder named by its hash.</summary>
public sealed record BenchmarkSettings
{
    public int Seed { get; init; } = 1;
    /// <summary>Comma-separated task names to build; empty builds all eight.</summary>
    public string Tasks { get; init; } = "";
    public int Width { get; init; } = 128;
    public int Layers { get; init; } = 6;
    public int GlyphImages { get; init; } = 60_000;
    public int PretrainSteps { get; init; } = 1500;
    public int PretrainBatch { get; init; } = 128;
    public double PretrainLearningRate { get; init; } = 1e-3;
    /// <summary>Labeled examples per class whose mean pre-trained feature is the class's head row.</summary>
    public int PrototypesPerClass { get; init; } = 64;
    public int FineTuneSteps { get; init; } = 200;
    public int FineTuneBatch { get; init; } = 128;
    public double FineTuneLearningRate { get; init; } = 3e-5;
    /// <summary>Test images kept per task (adaptation and evaluation data, as in the paper); 0 keeps them all.</summary>
    public int TestImagesPerTask { get; init; } = 1000;
    /// <summary>Training images held out per task for choosing settings without touching test labels.</summary>
    public int ValidationImagesPerTask { get; init; } = 500;

    public ClipVisionConfig Config => new(Width, 4 * Width, Layers, Width / 32, BenchmarkTasks.ImageSize, 7, 3, "quick_gelu", 1e-5, Width);

    /// <summary>What decides the pre-trained base alone, so fine-tuning variants reuse it.</summary>
    public string PretrainHash() => HashOf(new { Seed, Width, Layers, GlyphImages, PretrainSteps, PretrainBatch, PretrainLearningRate });

    public string Hash() => HashOf(this);

    private static string HashOf<T>(T value) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(value)))[..12];

}
