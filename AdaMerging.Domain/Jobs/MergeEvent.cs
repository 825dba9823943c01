namespace AdaMerging.Domain.Jobs;

/// <summary>
/// One thing that happened to a merge, in order (the id is the database's sequence): queued, started, retried (a
/// later attempt), resumed (from a saved step), phase, objective (every few steps), succeeded, failed (with a code),
/// cancelled. Clients page them or follow them as a server-sent-event stream.
/// </summary>
public sealed class MergeEvent
{
    private MergeEvent() { }

    public MergeEvent(Guid mergeId, string type, DateTimeOffset at, string message, string? phase = null, int? step = null, double? objective = null,
        string? errorCode = null)
    {
        MergeId = mergeId;
        Type = type;
        At = at;
        Message = message.Length <= MaxMessage ? message : message[..(MaxMessage - 1)] + "…";
        Phase = phase;
        Step = step;
        Objective = objective;
        ErrorCode = errorCode;
    }

    /// <summary>The longest message kept (a failure's reason is cut here; its first line is what matters).</summary>
    public const int MaxMessage = 2000;

    public long Id { get; private set; }

    public Guid MergeId { get; private set; }

    public string Type { get; private set; } = "";

    public DateTimeOffset At { get; private set; }

    public string Message { get; private set; } = "";

    public string? Phase { get; private set; }

    public int? Step { get; private set; }

    public double? Objective { get; private set; }

    /// <summary>For "failed": a stable code (inputs_incompatible, invalid_input, merge_failed).</summary>
    public string? ErrorCode { get; private set; }
}
