namespace AdaMerging.Domain.Store;

/// <summary>What a resumable upload becomes once complete.</summary>
public enum UploadTarget
{
    /// <summary>A file of an open checkpoint.</summary>
    Checkpoint,

    /// <summary>A new head.</summary>
    Head,

    /// <summary>A new dataset.</summary>
    Dataset,
}

/// <summary>
/// One file arriving over several requests (tus 1.0, docs/api.md "Resumable uploads"): created with its length,
/// appended to from the offset the server has, and, once every byte is in and its SHA-256 matches the one the client
/// declared, put into its open checkpoint or made into a new head or dataset. Unfinished past <see cref="ExpiresAt"/>,
/// it is abandoned and its partial bytes removed.
/// </summary>
public sealed class ResumableUpload : IOwned
{
    private ResumableUpload() { }

    public ResumableUpload(Guid id, Guid checkpointId, string fileName, long length, string? expectedSha256, DateTimeOffset now, TimeSpan lifetime)
        : this(id, UploadTarget.Checkpoint, checkpointId, null, fileName, length, expectedSha256, now, lifetime)
    {
    }

    /// <param name="resourceName">A head's or dataset's name; null for a checkpoint file.</param>
    public ResumableUpload(Guid id, UploadTarget target, Guid? checkpointId, string? resourceName, string fileName, long length, string? expectedSha256,
        DateTimeOffset now, TimeSpan lifetime)
    {
        if ((target == UploadTarget.Checkpoint) != checkpointId.HasValue)
            throw new ArgumentException("a checkpoint file names its checkpoint, and only a checkpoint file does", nameof(checkpointId));
        Id = id;
        Target = target;
        CheckpointId = checkpointId;
        ResourceName = resourceName;
        FileName = fileName;
        Length = length;
        ExpectedSha256 = expectedSha256;
        CreatedAt = now;
        ExpiresAt = now + lifetime;
    }

    public Guid Id { get; private set; }

    public string Owner { get; private set; } = "";

    public void OwnedBy(string owner) => Owner = owner;

    public UploadTarget Target { get; private set; }

    /// <summary>The open checkpoint the file goes into; null for a head or dataset.</summary>
    public Guid? CheckpointId { get; private set; }

    /// <summary>The head's or dataset's name.</summary>
    public string? ResourceName { get; private set; }

    /// <summary>The head or dataset made from the file, once complete.</summary>
    public Guid? ResourceId { get; private set; }

    public string FileName { get; private set; } = "";

    /// <summary>Upload-Length: the whole file's size, declared at creation.</summary>
    public long Length { get; private set; }

    /// <summary>Bytes received so far (as of the last PATCH that ended).</summary>
    public long Offset { get; private set; }

    /// <summary>The SHA-256 the client declared (lower-case hex), checked when the last byte arrives.</summary>
    public string? ExpectedSha256 { get; private set; }

    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>When an unfinished upload is abandoned; every PATCH moves it on by the configured lifetime.</summary>
    public DateTimeOffset ExpiresAt { get; private set; }

    /// <summary>The stored file's SHA-256 once complete; null while bytes are missing.</summary>
    public string? Sha256 { get; private set; }

    public bool Complete => Sha256 is not null;

    public bool Expired(DateTimeOffset now) => !Complete && now >= ExpiresAt;

    /// <summary>A PATCH ended (in full or cut off) with <paramref name="offset"/> bytes on disk.</summary>
    public void Received(long offset, DateTimeOffset now, TimeSpan lifetime)
    {
        if (Complete) throw new InvalidOperationException($"upload {Id} is complete");
        if (offset < Offset || offset > Length) throw new InvalidOperationException($"offset {offset} is outside {Offset}..{Length}");
        Offset = offset;
        ExpiresAt = now + lifetime;
    }

    /// <param name="resourceId">The head or dataset made from it; null for a checkpoint file.</param>
    public void Completed(string sha256, Guid? resourceId = null)
    {
        if (Offset != Length) throw new InvalidOperationException($"upload {Id} has {Offset} of {Length} bytes");
        if ((Target == UploadTarget.Checkpoint) == resourceId.HasValue) throw new InvalidOperationException($"upload {Id} of a {Target} with resource {resourceId}");
        Sha256 = sha256;
        ResourceId = resourceId;
    }
}
