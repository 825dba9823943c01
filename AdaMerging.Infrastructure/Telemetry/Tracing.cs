using System.Diagnostics;

namespace AdaMerging.Infrastructure.Telemetry;

/// <summary>
/// The service's spans (docs/api.md, "Observability"): the API's request spans continue, through the merge row's saved
/// W3C trace context, into the worker's "merge" span and one span per phase, so one trace id follows a merge from the
/// POST that submitted it to its last phase, in both processes' logs.
/// </summary>
public static class Tracing
{
    public const string SourceName = "AdaMerging";

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>The W3C traceparent of the current span, to be saved with work another process continues; null outside one.</summary>
    public static string? CurrentParent() => Activity.Current is { IdFormat: ActivityIdFormat.W3C } a ? a.Id : null;

    /// <summary>The span context a saved traceparent names; default (a new trace) when there is none or it does not parse.</summary>
    public static ActivityContext Parent(string? traceParent) =>
        traceParent is not null && ActivityContext.TryParse(traceParent, null, out var context) ? context : default;
}
