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

/// <summary>
/// The phases of a merge run, in the order they begin (a merge's <c>progress.phase</c>, its phase events, the report's
/// timings and memory per phase, the worker's phase spans and metrics): θ0 and the vectors loaded, the coefficients
/// optimised (AdaMerging), the merge computed, the merged model written, the tasks evaluated.
/// </summary>
public enum MergePhase
{
    Load,
    Optimise,
    Merge,
    Write,
    Evaluate,
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

    public static string Wire(this MergePhase phase) => WireName.Of(phase);

    /// <summary>The member a stored wire name stands for (events and jobs store names, as the wire spells them).</summary>
    public static T Parse<T>(string wire) where T : struct, Enum =>
        Enum.GetValues<T>().Single(v => WireName.Of(v) == wire);

    /// <summary><see cref="Parse{T}"/> of a name that may be absent.</summary>
    public static T? ParseOptional<T>(string? wire) where T : struct, Enum => wire is null ? null : Parse<T>(wire);

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
