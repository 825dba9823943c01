namespace AdaMerging.Domain.Checkpoints;

/// <summary>A checkpoint folder, head or dataset that cannot be used as it is; the message says why.</summary>
public sealed class CheckpointFormatException : Exception
{
    public CheckpointFormatException(string message) : base(message) { }

    public CheckpointFormatException(string message, Exception inner) : base(message, inner) { }

    public CheckpointFormatException() { }
}
