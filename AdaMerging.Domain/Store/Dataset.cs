using AdaMerging.Domain.Datasets;

namespace AdaMerging.Domain.Store;

/// <summary>An uploaded dataset over its blob, with what the upload check found in it.</summary>
public sealed class Dataset : StoredBlob
{
    private Dataset() { }

    public Dataset(Guid id, string name, string sha256, long bytes, DatasetInfo info, DateTimeOffset createdAt)
        : base(id, name, sha256, bytes, createdAt)
    {
        Format = info.Format;
        Count = info.Count;
        Channels = info.Channels;
        Height = info.Height;
        Width = info.Width;
        HasLabels = info.HasLabels;
        MaxLabel = info.MaxLabel;
        ClassNames = info.ClassNames?.ToList();
        Modality = info.Modality;
        FeatureSize = info.FeatureSize;
    }

    public DatasetFormat Format { get; private set; }

    public int Count { get; private set; }

    public int Channels { get; private set; }

    public int? Height { get; private set; }

    public int? Width { get; private set; }

    public bool HasLabels { get; private set; }

    public int? MaxLabel { get; private set; }

    public List<string>? ClassNames { get; private set; }

    /// <summary>What its examples are (images, feature vectors): the models it can feed.</summary>
    public DatasetModality Modality { get; private set; }

    /// <summary>The width of its feature vectors, for the features modality.</summary>
    public int? FeatureSize { get; private set; }

    public DatasetInfo Info => new(Format, Count, Channels, Height, Width, HasLabels, MaxLabel, ClassNames, Modality, FeatureSize);
}
