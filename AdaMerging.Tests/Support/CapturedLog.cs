using System.Collections.Concurrent;
using System.Globalization;
using Serilog.Core;
using Serilog.Events;

namespace AdaMerging.Tests.Support;

/// <summary>Every event a host logged, rendered with all its properties and exception, as a log reader would see it.</summary>
public sealed class CapturedLog : ILogEventSink
{
    private readonly ConcurrentQueue<string> _lines = new();

    public void Emit(LogEvent logEvent)
    {
        var properties = string.Join(" ", logEvent.Properties.Select(p => $"{p.Key}={p.Value}"));
        _lines.Enqueue($"{logEvent.Level} {logEvent.RenderMessage(CultureInfo.InvariantCulture)} {properties} TraceId={logEvent.TraceId} {logEvent.Exception}");
    }

    public IReadOnlyList<string> Lines => [.. _lines];
}
