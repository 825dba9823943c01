namespace AdaMerging.Domain.Merging;

/// <summary>Fine-tuned checkpoints that do not match the base tensor for tensor.</summary>
public sealed class IncompatibleCheckpointsException : Exception
{
    public IncompatibleCheckpointsException(IReadOnlyList<string> differences)
        : base("checkpoints do not match the base: " + string.Join("; ", differences)) => Differences = differences;

    public IncompatibleCheckpointsException() : this([]) { }

    public IncompatibleCheckpointsException(string message) : base(message) => Differences = [message];

    public IncompatibleCheckpointsException(string message, Exception inner) : base(message, inner) => Differences = [message];

    public IReadOnlyList<string> Differences { get; } = [];
}
