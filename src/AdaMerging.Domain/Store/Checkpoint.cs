namespace AdaMerging.Domain.Store;

/// <summary>An uploaded checkpoint: a name over a content-addressed blob, with what its header says.</summary>
public sealed class Checkpoint
{
    private Checkpoint() { }

    public Checkpoint(Guid id, string name, string sha256, long bytes, int tensorCount, long parameterCount, DateTimeOffset createdAt)
    {
        Id = id;
        Name = name;
        Sha256 = sha256;
        Bytes = bytes;
        TensorCount = tensorCount;
        ParameterCount = parameterCount;
        CreatedAt = createdAt;
    }

    public Guid Id { get; private set; }

    public string Name { get; private set; } = "";

    public string Sha256 { get; private set; } = "";

    public long Bytes { get; private set; }

    public int TensorCount { get; private set; }

    public long ParameterCount { get; private set; }

    public DateTimeOffset CreatedAt { get; private set; }
}
