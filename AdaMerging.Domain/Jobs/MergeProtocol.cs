using AdaMerging.Domain.Methods.Options;

namespace AdaMerging.Domain.Jobs;

/// <summary>What happened to a merge, as its events name it on the wire (snake_case of the member: <c>queued</c>, …).</summary>
public enum MergeEventType
{
    Queued,
    Started,
    Retried,
    Resumed,
    Phase,
    Objective,
    Succeeded,
    Failed,
    Cancelled,
}

/// <summary>Why a merge failed, as its failed event and its metrics name it (<c>inputs_incompatible</c>, …).</summary>
public enum MergeFailureCode
{
    /// <summary>The checkpoints do not fit together (a task lacks a base tensor, or has one of another shape).</summary>
    InputsIncompatible,

    /// <summary>An input cannot be read or used as given (a malformed file, an option the inputs refuse).</summary>
    InvalidInput,

    /// <summary>Anything else.</summary>
    MergeFailed,
}

/// <summary>What a merge's callback may be sent for (a request's <c>callbackEvents</c>; the body's type is <c>merge.</c> + the name).</summary>
public enum CallbackEvent
{
    Started,
    Progress,
    Succeeded,
    Failed,
    Cancelled,

    /// <summary>The old name of <see cref="Succeeded"/>: a request that names it (and not succeeded) is sent <c>merge.completed</c>, as before.</summary>
    Completed,
}

/// <summary>
/// The merge protocol's names in one place: the API, the worker, the OpenAPI document and the web page use these, and
/// no client reads a message's English (docs/api.md, "Events").
/// </summary>
public static class MergeProtocol
{
    public static string Wire(this MergeEventType type) => WireName.Of(type);

    public static string Wire(this MergeFailureCode code) => WireName.Of(code);

    public static string Wire(this CallbackEvent callback) => WireName.Of(callback);

    /// <summary>Every name a request's callbackEvents may hold.</summary>
    public static IReadOnlyList<string> CallbackEvents { get; } = [.. Enum.GetValues<CallbackEvent>().Select(Wire)];

    /// <summary>What a callback is sent for when the request names no events: the end of the merge.</summary>
    public static IReadOnlyList<string> DefaultCallbackEvents { get; } =
        [CallbackEvent.Succeeded.Wire(), CallbackEvent.Failed.Wire(), CallbackEvent.Cancelled.Wire()];

    /// <summary>The name a succeeded merge's callback goes out under for a request that asked for <paramref name="events"/>: its old name only when it asked for that alone.</summary>
    public static string SucceededName(IReadOnlyList<string>? events) =>
        events is not null && events.Contains(CallbackEvent.Completed.Wire()) && !events.Contains(CallbackEvent.Succeeded.Wire())
            ? CallbackEvent.Completed.Wire() : CallbackEvent.Succeeded.Wire();
}
