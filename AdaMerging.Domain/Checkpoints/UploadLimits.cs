namespace AdaMerging.Domain.Checkpoints;

/// <summary>How much any one upload may ask of the service. Every limit is an option with a sane default.</summary>
public sealed record UploadLimits
{
    public long MaxUploadBytes { get; init; } = 20L << 30;

    public long MaxHeaderBytes { get; init; } = 100_000_000;

    public int MaxTensorCount { get; init; } = 100_000;

    public int MaxArchiveEntries { get; init; } = 200_000;

    public long MaxArchiveExpandedBytes { get; init; } = 16L << 30;

    /// <summary>Expanded over compressed size of one archive entry; past it the entry is taken for a zip bomb.</summary>
    public double MaxCompressionRatio { get; init; } = 200;

    public long MaxImagePixels { get; init; } = 64L << 20;

    public int MaxClasses { get; init; } = 100_000;

    /// <summary>Examples in one text dataset (JSON Lines or CSV).</summary>
    public int MaxTextExamples { get; init; } = 1_000_000;

    /// <summary>Characters in one text: a longer one is refused at upload (what the model reads is cut to its maximum sequence length anyway).</summary>
    public int MaxTextCharacters { get; init; } = 100_000;
}
