using AdaMerging.Api.Setup;
using System.Security.Claims;
using System.Text.Json;
using AdaMerging.Api.Access;
using AdaMerging.Api.Errors;
using AdaMerging.Domain.Jobs;
using AdaMerging.Infrastructure.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AdaMerging.Api.Endpoints;

/// <param name="TotalSteps">The phase's step count beside <paramref name="Step"/>, for phase and objective events.</param>
/// <param name="Type">What happened (<see cref="MergeEventType"/>).</param>
/// <param name="Message">For people; a client reads the fields, never these words.</param>
public sealed record MergeEventResponse(long Id, MergeEventType Type, DateTimeOffset At, string Message, MergePhase? Phase, int? Step, double? Objective,
    MergeEventError? Error, int? TotalSteps = null)
{
    public static MergeEventResponse From(MergeEvent e) => new(e.Id, MergeProtocol.Parse<MergeEventType>(e.Type), e.At, e.Message,
        MergeProtocol.ParseOptional<MergePhase>(e.Phase), e.Step, e.Objective,
        e.ErrorCode is null ? null : new MergeEventError(MergeProtocol.Parse<MergeFailureCode>(e.ErrorCode), e.Message), e.TotalSteps);
}

/// <summary>A failure's machine-readable code and its message.</summary>
public sealed record MergeEventError(MergeFailureCode Code, string Message);

/// <summary>Events oldest first, in the one list shape (docs/api.md, "Lists"); <c>?after=</c> the previous page's <see cref="LastId"/>.</summary>
public sealed record MergeEventPage(IReadOnlyList<MergeEventResponse> Data, bool HasMore, long? FirstId, long? LastId);

/// <summary>What happened to a merge, in order: paged, or followed live as server-sent events.</summary>
public static class MergeEventEndpoints
{
    public static WebApplication MapMergeEvents(this WebApplication app)
    {
        var group = app.MapGroup("/merges/{id:guid}/events").WithTags("Merges");
        group.MapGet("/", List).WithName("listMergeEvents").WithSummary("A merge's events, oldest first: queued, started, retried, resumed, phase, objective, succeeded, failed (with a code), cancelled")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/stream", Stream).WithName("streamMergeEvents")
            .WithSummary("The same events as text/event-stream, live until the merge has ended (Last-Event-ID or ?after= resumes)")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream").WithHeaders(ProtocolHeaders.EventStream)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    public static async Task<Ok<MergeEventPage>> List(Guid id, AdaMergingDbContext db, ClaimsPrincipal user, CancellationToken ct, long after = 0, int limit = 100)
    {
        if (limit is < 1 or > 1000) throw ApiProblemException.Invalid($"limit must be 1-1000, not {limit}");
        await EnsureVisibleAsync(db, id, user, ct);
        var events = await Page(db, id, after, limit + 1, ct);
        var page = events.Take(limit).Select(MergeEventResponse.From).ToList();
        return TypedResults.Ok(new MergeEventPage(page, events.Count > limit, page.FirstOrDefault()?.Id, page.LastOrDefault()?.Id));
    }

    /// <summary>How long an EventSource waits before it reconnects (with Last-Event-ID) when the stream is cut.</summary>
    public const int ReconnectMilliseconds = 3000;

    public static async Task Stream(Guid id, HttpContext http, AdaMergingDbContext db, ClaimsPrincipal user, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json,
        IOptions<AdaMerging.Infrastructure.Options.AdaMergingOptions> service, TimeProvider time, CancellationToken ct, long after = 0)
    {
        await EnsureVisibleAsync(db, id, user, ct);
        if (long.TryParse(http.Request.Headers["Last-Event-ID"], out var resumed)) after = Math.Max(after, resumed);
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no"; // a buffering proxy (nginx) would hold events back
        await http.Response.WriteAsync($"retry: {ReconnectMilliseconds}\n\n", ct);
        var keepAlive = TimeSpan.FromSeconds(service.Value.EventStreamKeepAliveSeconds);
        var lastWrite = time.GetTimestamp();
        while (!ct.IsCancellationRequested)
        {
            var finished = await db.Merges.AsNoTracking().Where(m => m.Id == id).Select(m => m.Status).SingleAsync(ct) is
                MergeStatus.Succeeded or MergeStatus.Failed or MergeStatus.Cancelled;
            foreach (var e in await Page(db, id, after, 1000, ct))
            {
                var data = JsonSerializer.Serialize(MergeEventResponse.From(e), json.Value.SerializerOptions);
                await http.Response.WriteAsync($"id: {e.Id}\nevent: {e.Type}\ndata: {data}\n\n", ct);
                after = e.Id;
                lastWrite = time.GetTimestamp();
            }
            if (time.GetElapsedTime(lastWrite) >= keepAlive)
            {
                await http.Response.WriteAsync(": keep-alive\n\n", ct); // a comment: EventSource ignores it, the connection stays busy
                lastWrite = time.GetTimestamp();
            }
            await http.Response.Body.FlushAsync(ct);
            if (finished) return; // every event up to the end has been sent (the status was read before them)
            await Task.Delay(500, ct);
        }
    }

    private static Task<List<MergeEvent>> Page(AdaMergingDbContext db, Guid id, long after, int take, CancellationToken ct) =>
        db.MergeEvents.AsNoTracking().Where(e => e.MergeId == id && e.Id > after).OrderBy(e => e.Id).Take(take).ToListAsync(ct);

    private static async Task EnsureVisibleAsync(AdaMergingDbContext db, Guid id, ClaimsPrincipal user, CancellationToken ct)
    {
        if (!await db.Merges.AsNoTracking().VisibleTo(user).AnyAsync(m => m.Id == id, ct)) throw ApiProblemException.NotFound($"merge {id} does not exist");
    }
}
