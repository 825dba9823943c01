namespace AdaMerging.Domain.Datasets;

/// <summary>What a dataset's examples are, and so which models it can feed (docs/algorithm.md, "Architectures").</summary>
public enum DatasetModality
{
    /// <summary>Images: pixel_values [N, C, H, W], or an archive of image files.</summary>
    Images,

    /// <summary>Feature vectors: features [N, D] (float), for models over precomputed features.</summary>
    Features,

    /// <summary>Texts: JSON Lines or CSV, tokenised by the model's own tokenizer when a job runs.</summary>
    Text,

    /// <summary>
    /// Prompts for a causal language model: JSON Lines of {"prompt": …} (unlabeled adaptation data) or {"prompt": …,
    /// "completion": …} (evaluation), tokenised by the model's own tokenizer when a job runs (docs/algorithm.md,
    /// "Language-model tasks").
    /// </summary>
    Prompts,
}
