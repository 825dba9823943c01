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
        Span<byte> magic = stackalloc byte[4];
        using (var file = File.OpenRead(path))
            if (file.Read(magic) < 4) throw new CheckpointFormatException("the dataset is empty or truncated");
        return magic.SequenceEqual("PK\u0003\u0004"u8) ? ImageArchive.Inspect(path, limits) : TensorDataset.Inspect(path, limits);
    }
}
