namespace AdaMerging.Domain.Store;

/// <summary>What every single-file resource (a head, a dataset) is: a named, owned, content-addressed blob.</summary>
public abstract class StoredBlob : IListed, IAnnotated
{
    protected StoredBlob() { }

    protected StoredBlob(Guid id, string name, string sha256, long bytes, DateTimeOffset createdAt)
    {
        Id = id;
        Name = name;
        Sha256 = sha256;
        Bytes = bytes;
        CreatedAt = createdAt;
    }

    public Guid Id { get; private set; }

    /// <summary>Who uploaded it; only they (and admins) can see or use it.</summary>
    public string Owner { get; private set; } = "";

    public void OwnedBy(string owner) => Owner = owner;

    public string Name { get; private set; } = "";

    public string Sha256 { get; private set; } = "";

    public long Bytes { get; private set; }

    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>The user's own labels (bounded by <see cref="ResourceMetadata"/>).</summary>
    public Dictionary<string, string> Metadata { get; private set; } = [];

    public void Annotate(IReadOnlyDictionary<string, string> metadata) => Metadata = new Dictionary<string, string>(metadata, StringComparer.Ordinal);
}
