namespace AdaMerging.Domain.Jobs;

public sealed class InvalidMergeTransitionException : InvalidOperationException
{
    public InvalidMergeTransitionException(string message) : base(message) { }

    public InvalidMergeTransitionException() { }

    public InvalidMergeTransitionException(string message, Exception inner) : base(message, inner) { }
}
