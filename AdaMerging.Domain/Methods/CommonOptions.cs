using System.Text.RegularExpressions;
using AdaMerging.Domain.Architectures;
using AdaMerging.Domain.Methods.Options;

namespace AdaMerging.Domain.Methods;

/// <summary>What a merged model's batch norms' running statistics are (docs/algorithm.md, "Batch normalisation").</summary>
public enum BatchNormStatistics
{
    /// <summary>Recompute where every task gives adaptation data and some task's statistics moved from the base's, merge otherwise.</summary>
    Auto,

    /// <summary>Merged with the same coefficients as their layer's weight.</summary>
    Merge,

    /// <summary>Re-estimated after merging on the tasks' unlabeled adaptation images (a forward pass without labels).</summary>
    Recompute,
}

/// <summary>What a task's embedding and output matrices with more rows than the base's are (docs/algorithm.md, "Vocabulary").</summary>
public enum EmbeddingRowsSource
{
    /// <summary>They must match the base's: a task with more rows is refused, naming the tensors and both counts.</summary>
    Match,

    /// <summary>The base's rows are merged; the task's added tokens are dropped (mergekit's tokenizer_source: base), and the report lists them.</summary>
    Base,
}

/// <summary>What a merge writes (docs/algorithm.md, "LoRA output").</summary>
public enum MergeOutput
{
    /// <summary>The full merged model, in the base's dtype and layout.</summary>
    Model,

    /// <summary>A PEFT LoRA adapter over the base: each changed matrix's delta by truncated SVD at loraRank, its error in the report.</summary>
    Lora,
}

/// <summary>Options every method takes: what is merged, how the result is evaluated and written.</summary>
public static class CommonOptions
{
    public static readonly PatternListOption Exclude = new("exclude",
        "Regular expressions of tensor names kept at the base (never merged).");

    public static readonly IntegerOption EvaluationBatchSize = new("evaluationBatchSize",
        "Images per forward pass when evaluating (and when batch-norm statistics are recomputed).", 64, 1, 4096);

    public static readonly IntegerOption ShardBytes = new("shardBytes",
        "The merged model is split into shards of at most this many bytes.", 5L << 30, 1 << 20, long.MaxValue);

    public static readonly EnumOption<BatchNormStatistics> BatchNorm = new("batchNormStatistics",
        "For models with batch norms (ResNet): merge their running statistics with their layer's coefficients, or recompute them "
        + "after merging on the tasks' unlabeled adaptationData; auto recomputes when every task gives adaptationData and some task's statistics differ from the base's "
        + "(checkpoints fine-tuned with frozen batch norms keep the base's). Models without batch norms ignore it.",
        BatchNormStatistics.Auto);

    public static readonly IntegerOption MaxSequenceLength = new("maxSequenceLength",
        "For text models: tokens per example, special tokens included; longer texts are cut at the end (Hugging Face's truncation). "
        + "0 takes the architecture's default (BERT family and GPT-2: 128, or the model's positions when fewer). "
        + "More than the model's positions is refused. Image models ignore it.", 0, 0, 65536);

    public static readonly EnumOption<EmbeddingRowsSource> EmbeddingRows = new("embeddingRows",
        "For tasks whose embedding or output matrices have more rows than the base's (tokens added in fine-tuning): match refuses them, "
        + "naming the tensors and both row counts; base merges the base's rows only, drops the added tokens' rows and lists them in the report "
        + "(the base's tokenizer goes with the merged model).", EmbeddingRowsSource.Match);

    public static readonly EnumOption<MergeOutput> Output = new("output",
        "model writes the full merged model; lora writes a PEFT LoRA adapter over the base (adapter_config.json, adapter_model.safetensors): "
        + "each changed weight matrix's delta from the base by truncated SVD at loraRank, the relative reconstruction error of each in the report; "
        + "changed tensors that are not matrices (biases, norms, convolution kernels) are listed as left out.", MergeOutput.Model);

    public static readonly IntegerOption LoraRank = new("loraRank",
        "The rank of each matrix's LoRA under output: lora (a matrix with fewer rows or columns keeps all of them, exactly).", 16, 1, 65536);

    public static IReadOnlyList<OptionSpec> All { get; } = [Exclude, EvaluationBatchSize, ShardBytes, BatchNorm, MaxSequenceLength, EmbeddingRows, Output, LoraRank];

    /// <summary>The tokens a text model's examples are cut to under these options; null for other models.</summary>
    public static int? SequenceLength(MethodOptions options, ModelSpec? model) =>
        model?.DefaultSequenceLength is not { } fallback ? null : MaxSequenceLength.In(options) is var n and > 0 ? (int)n : fallback;

    /// <summary>
    /// The exclusion patterns a merge runs with: the request's, and the base's classifier, which is never merged (a
    /// merged model carries the base's; a task's own is its head, docs/algorithm.md, "Heads").
    /// </summary>
    public static IReadOnlyList<string> Excluded(MethodOptions options, ModelSpec? model) =>
        [.. Exclude.In(options), .. (model?.ClassifierTensors ?? []).Select(t => $"^{Regex.Escape(t)}$")];
}
