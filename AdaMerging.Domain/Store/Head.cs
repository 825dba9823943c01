using AdaMerging.Domain.Heads;

namespace AdaMerging.Domain.Store;

/// <summary>An uploaded classification head over its blob.</summary>
public sealed class Head : IOwned
{
    private Head() { }

    public Head(Guid id, string name, string sha256, long bytes, HeadInfo info, DateTimeOffset createdAt)
    {
        Id = id;
        Name = name;
        Sha256 = sha256;
        Bytes = bytes;
        Classes = info.Classes;
        FeatureSize = info.FeatureSize;
        HasBias = info.HasBias;
        NormalizeFeatures = info.NormalizeFeatures;
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

    public int Classes { get; private set; }

    public int FeatureSize { get; private set; }

    public bool HasBias { get; private set; }

    public bool NormalizeFeatures { get; private set; }

    public List<string>? ClassNames { get; private set; }

    public DateTimeOffset CreatedAt { get; private set; }

    public HeadInfo Info => new(Classes, FeatureSize, HasBias, NormalizeFeatures, ClassNames);
}
