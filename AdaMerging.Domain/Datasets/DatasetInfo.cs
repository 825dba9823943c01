using AdaMerging.Domain.Architectures.Clip;
using AdaMerging.Domain.Checkpoints;

namespace AdaMerging.Domain.Datasets;

public enum DatasetFormat
{
    /// <summary>safetensors with pixel_values [N, C, H, W] (uint8, or float already preprocessed) and optional labels [N].</summary>
    Tensors,

    /// <summary>A zip with one folder per class; labels are the folders' ordinal rank.</summary>
    ImageFolders,

    /// <summary>A zip of images beside labels.csv (file,label), or images alone for unlabeled data.</summary>
    ImageList,

    /// <summary>UTF-8 JSON Lines: one {"text": …, "label": …} object per line (label optional).</summary>
    JsonLines,

    /// <summary>UTF-8 CSV with a header naming a text column and optionally a label column.</summary>
    Csv,
}

/// <summary>
/// What an uploaded dataset holds, checked at upload; the pixels themselves are decoded when a job runs. Images have
/// channels (and, as tensors, a height and width); feature vectors have their <paramref name="FeatureSize"/> (channels 0).
/// </summary>
public sealed record DatasetInfo(
    DatasetFormat Format,
    int Count,
    int Channels,
    int? Height,
    int? Width,
    bool HasLabels,
    int? MaxLabel,
    IReadOnlyList<string>? ClassNames,
    DatasetModality Modality = DatasetModality.Images,
    int? FeatureSize = null)
{
    public static DatasetInfo Inspect(string path, UploadLimits limits)
    {
        Span<byte> magic = stackalloc byte[8];
        int read;
        using (var file = File.OpenRead(path))
            read = file.Read(magic);
        if (read == 0) throw new CheckpointFormatException("the dataset is empty");
        if (read >= 4 && magic[..4].SequenceEqual("PK\u0003\u0004"u8)) return ImageArchive.Inspect(path, limits);
        // safetensors starts with its header's length, little-endian: zero bytes, which UTF-8 text (JSON Lines, CSV) never has.
        if (magic[..read].Contains((byte)0)) return TensorDataset.Inspect(path, limits);
        return Text.PromptDataset.Is(path) ? Text.PromptDataset.Inspect(path, limits) : Text.TextDataset.Inspect(path, limits);
    }
}
