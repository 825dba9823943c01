using AdaMerging.Domain.Jobs;
using AdaMerging.Infrastructure.Blobs;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace AdaMerging.Api.Errors;

/// <summary>The one place exceptions become ProblemDetails: refusals keep their status and message, the rest are 500s that leak nothing.</summary>
public sealed partial class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var problem = exception switch
        {
            ApiProblemException p => Problem(p.Status, p.Title, p.Message, p.Errors),
            BlobTooLargeException t => Problem(StatusCodes.Status413PayloadTooLarge, "Upload too large", t.Message),
            BadHttpRequestException b => Problem(b.StatusCode, "Bad request", Unwrap(b)),
            Microsoft.EntityFrameworkCore.DbUpdateConcurrencyException => Problem(StatusCodes.Status409Conflict, "Conflict",
                "the resource changed while this request was changing it (a merge started or finished); nothing was changed, retry"),
            _ when DatabaseUnavailable(exception) => Problem(StatusCodes.Status503ServiceUnavailable, "Service unavailable",
                "the database cannot be reached; nothing was changed, retry shortly"),
            _ => null,
        };
        if (problem?.Status == StatusCodes.Status429TooManyRequests) httpContext.Response.Headers.RetryAfter = "10"; // a merge slot frees when one ends
        if (exception is ApiProblemException { Code: { } code } && problem is not null) problem.Extensions["code"] = code;
        if (exception is ApiProblemException { Headers: { } headers }) // set here: the exception handler cleared the response
            foreach (var (name, value) in headers) httpContext.Response.Headers[name] = value;
        if (problem?.Status == StatusCodes.Status503ServiceUnavailable)
        {
            httpContext.Response.Headers.RetryAfter = "5";
            LogDatabaseUnavailable(httpContext.Request.Method, httpContext.Request.Path, TraceIds.Of(httpContext), Innermost(exception).Message);
        }
        if (problem is null)
        {
            LogUnhandled(exception, httpContext.Request.Method, httpContext.Request.Path);
            problem = Problem(StatusCodes.Status500InternalServerError, "Internal error",
                $"the server failed to process the request; quote trace id {TraceIds.Of(httpContext)}");
        }
        httpContext.Response.StatusCode = problem.Status!.Value;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem, Exception = exception });
    }

    private static ProblemDetails Problem(int status, string title, string detail, IReadOnlyList<RequestProblem>? errors = null)
    {
        var problem = new ProblemDetails { Status = status, Title = title, Detail = detail };
        if (errors is { Count: > 0 }) problem.Extensions["errors"] = errors.Select(ProblemEntry.Of).ToList();
        return problem;
    }

    /// <summary>PostgreSQL refused or dropped the connection (it is down or restarting), however EF wrapped it.</summary>
    private static bool DatabaseUnavailable(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
            if (x is Npgsql.NpgsqlException { IsTransient: true } or System.Net.Sockets.SocketException
                || x is Npgsql.PostgresException { SqlState: "57P01" or "57P02" or "57P03" }) // admin shutdown, crash shutdown, cannot connect now
                return true;
        return false;
    }

    private static Exception Innermost(Exception e) => e.InnerException is { } inner ? Innermost(inner) : e;

    // Binding failures wrap the JSON reader's message, which says where the body went wrong.
    private static string Unwrap(BadHttpRequestException b) =>
        b.InnerException is { } inner ? $"{b.Message} {inner.Message}" : b.Message;

    [LoggerMessage(LogLevel.Warning, "Database unavailable for {Method} {Path} (trace id {TraceId}): {Reason}")]
    private partial void LogDatabaseUnavailable(string method, string path, string traceId, string reason);

    [LoggerMessage(LogLevel.Error, "Unhandled exception for {Method} {Path}")]
    private partial void LogUnhandled(Exception exception, string method, string path);
}
