using AdaMerging.Domain.Datasets;

namespace AdaMerging.Domain.Store;

/// <summary>An uploaded dataset over its blob, with what the upload check found in it.</summary>
public sealed class Dataset : IOwned
{
    private Dataset() { }

    public Dataset(Guid id, string name, string sha256, long bytes, DatasetInfo info, DateTimeOffset createdAt)
    {
        Id = id;
        Name = name;
        Sha256 = sha256;
        Bytes = bytes;
        Format = info.Format;
        Count = info.Count;
        Channels = info.Channels;
        Height = info.Height;
        Width = info.Width;
        HasLabels = info.HasLabels;
        MaxLabel = info.MaxLabel;
        ClassNames = info.ClassNames?.ToList();
        CreatedAt = createdAt;
    }

    public Guid Id { get; private set; }

    /// <summary>Who uploaded it; only they (and admins) can see or use it.</summary>
    public string Owner { get; private set; } = "";

    public void OwnedBy(string owner) => Owner = owner;

    public string Name { get; private set; } = "";

    public string Sha256 { get; private set; } = "";

    public long Bytes { get; private set; }

    public DatasetFormat Format { get; private set; }

    public int Count { get; private set; }

    public int Channels { get; private set; }

    public int? Height { get; private set; }

    public int? Width { get; private set; }

    public bool HasLabels { get; private set; }

    public int? MaxLabel { get; private set; }

    public List<string>? ClassNames { get; private set; }

    public DateTimeOffset CreatedAt { get; private set; }

    public DatasetInfo Info => new(Format, Count, Channels, Height, Width, HasLabels, MaxLabel, ClassNames);
}
