using AdaMerging.Domain.Heads;

namespace AdaMerging.Domain.Store;

/// <summary>An uploaded classification head over its blob.</summary>
public sealed class Head : StoredBlob
{
    private Head() { }

    public Head(Guid id, string name, string sha256, long bytes, HeadInfo info, DateTimeOffset createdAt)
        : base(id, name, sha256, bytes, createdAt)
    {
        Classes = info.Classes;
        FeatureSize = info.FeatureSize;
        HasBias = info.HasBias;
        NormalizeFeatures = info.NormalizeFeatures;
        ClassNames = info.ClassNames?.ToList();
    }

    public int Classes { get; private set; }

    public int FeatureSize { get; private set; }

    public bool HasBias { get; private set; }

    public bool NormalizeFeatures { get; private set; }

    public List<string>? ClassNames { get; private set; }

    public HeadInfo Info => new(Classes, FeatureSize, HasBias, NormalizeFeatures, ClassNames);
}
