using AdaMerging.Domain.Methods.Options;

namespace AdaMerging.Domain.Methods;

/// <summary>Options every method takes: what is merged, how the result is evaluated and written.</summary>
public static class CommonOptions
{
    public static readonly PatternListOption Exclude = new("exclude",
        "Regular expressions of tensor names kept at the base (never merged).");

    public static readonly IntegerOption EvaluationBatchSize = new("evaluationBatchSize",
        "Images per forward pass when evaluating.", 64, 1, 4096);

    public static readonly IntegerOption ShardBytes = new("shardBytes",
        "The merged model is split into shards of at most this many bytes.", 5L << 30, 1 << 20, long.MaxValue);

    public static IReadOnlyList<OptionSpec> All { get; } = [Exclude, EvaluationBatchSize, ShardBytes];
}
