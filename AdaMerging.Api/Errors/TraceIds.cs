using System.Diagnostics;

namespace AdaMerging.Api.Errors;

/// <summary>The id a client quotes: the W3C trace id of the request's span (the worker's log lines for a merge carry the same).</summary>
public static class TraceIds
{
    public static string Of(HttpContext http) => Activity.Current?.TraceId.ToHexString() ?? http.TraceIdentifier;
}
