namespace AdaMerging.Domain.Jobs;

/// <summary>
/// One thing that happened to a merge, in order (the id is the database's sequence): queued, started, retried (a
/// later attempt), resumed (from a saved step), phase, objective (every few steps), succeeded, failed (with a code),
/// cancelled. Clients page them or follow them as a server-sent-event stream.
/// </summary>
public sealed class MergeEvent
{
    private MergeEvent() { }

    public MergeEvent(Guid mergeId, MergeEventType type, DateTimeOffset at, string message, MergePhase? phase = null, int? step = null, double? objective = null,
        MergeFailureCode? errorCode = null, int? totalSteps = null)
    {
        TotalSteps = totalSteps;
        MergeId = mergeId;
        Type = type.Wire();
        At = at;
        Message = message.Length <= MaxMessage ? message : message[..(MaxMessage - 1)] + "…";
        Phase = phase?.Wire();
        Step = step;
        Objective = objective;
        ErrorCode = errorCode?.Wire();
    }

    /// <summary>The longest message kept (a failure's reason is cut here; its first line is what matters).</summary>
    public const int MaxMessage = 2000;

    public long Id { get; private set; }

    public Guid MergeId { get; private set; }

    /// <summary>A <see cref="MergeEventType"/>'s wire name (stored as such).</summary>
    public string Type { get; private set; } = "";

    public DateTimeOffset At { get; private set; }

    public string Message { get; private set; } = "";

    public string? Phase { get; private set; }

    public int? Step { get; private set; }

    /// <summary>The phase's step count beside <see cref="Step"/> (the optimisation's steps), as a field: no client reads it from the message.</summary>
    public int? TotalSteps { get; private set; }

    public double? Objective { get; private set; }

    /// <summary>For "failed": a <see cref="MergeFailureCode"/>'s wire name.</summary>
    public string? ErrorCode { get; private set; }
}
