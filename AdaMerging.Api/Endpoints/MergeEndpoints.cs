using AdaMerging.Api.Setup;
using AdaMerging.Api.Idempotency;
using System.Text.Json;
using System.Security.Claims;
using AdaMerging.Api.Access;
using AdaMerging.Api.Errors;
using AdaMerging.Domain.Jobs;
using AdaMerging.Infrastructure.Contract;
using AdaMerging.Domain.Store;
using AdaMerging.Infrastructure.Blobs;
using AdaMerging.Infrastructure.Persistence;
using AdaMerging.Infrastructure.Queue;
using AdaMerging.Infrastructure.Jobs;
using Hangfire;
using Microsoft.AspNetCore.Http.HttpResults;
using AdaMerging.Infrastructure.Options;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AdaMerging.Api.Endpoints;

public static class MergeEndpoints
{
    /// <summary>A merge request is ids and options: 64 tasks fit in a few kilobytes; a megabyte is refused unread.</summary>
    public const long MaxRequestBytes = 1 << 20;

    /// <summary>Why ?offset= is deprecated on the lists that had it (docs/api.md, "Lists").</summary>
    public const string OffsetForm = "Deprecated, kept one release: page with after (the previous page's lastId). With offset the answer also carries the old fields offset, limit and ";

    public static WebApplication MapMerges(this WebApplication app)
    {
        var group = app.MapGroup("/merges").WithTags("Merges");
        group.MapPost("/", Submit).WithName("submitMerge")
            .WithSummary("Submit a merge")
            .WithDescription("Validates the whole request (method, options, that every input exists and that they fit together), "
                + "stores it and queues it. Answers 202 with the merge's location. With an Idempotency-Key header a retried POST "
                + "gets the first one's answer; the same key with a different request is a 422, and while the first still runs a 409.")
            .WithIdempotency()
            .WithMetadata(new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(MaxRequestBytes))
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        group.MapGet("/", List).WithName("listMerges").WithSummary("Merges, newest first, filtered by status, method and creation time, paged by cursor")
            .WithMetadata(new DeprecatedParameters(OffsetForm + "items.", "offset"))
            .ProducesProblem(StatusCodes.Status400BadRequest);
        group.MapGet("/{id:guid}", Get).WithName("getMerge").WithSummary("A merge's status (ETag; If-None-Match answers 304)")
            .WithHeaders(ProtocolHeaders.Conditional).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapMetadata<MergeJob, MergeResponse>("merge", app.Services.GetRequiredService<MergeView>().Of);
        group.MapDelete("/{id:guid}", Delete).WithName("deleteMerge")
            .WithSummary("Delete a finished merge and its results (a queued or running one: cancel it first)")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPost("/{id:guid}/cancel", Cancel).WithName("cancelMerge")
            .WithSummary("Cancel a queued or running merge; a running one stops within about a second")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        Result(group.MapGet("/{id:guid}/model", DownloadModel).WithName("downloadMergeModel"), "application/octet-stream").WithHeaders(ProtocolHeaders.File)
            .WithSummary("Download the merged model.safetensors (when the model is not sharded)");
        Result(group.MapGet("/{id:guid}/files/{fileName}", DownloadFile).WithName("downloadMergeFile"), "application/octet-stream").WithHeaders(ProtocolHeaders.File)
            .WithSummary("Download one file of the merged model folder (config.json, shards, index, report.json)");
        Result(group.MapGet("/{id:guid}/archive", Archive).WithName("downloadMergeArchive"), "application/zip").WithHeaders(ProtocolHeaders.Archive)
            .WithSummary("The whole merged folder (model, config, report, coefficients, plots) as one zip, streamed");
        Result(group.MapGet("/{id:guid}/report", Report).WithName("getMergeReport"), contentType: null).Produces<AdaMerging.Domain.Merging.MergeReport>(StatusCodes.Status200OK, "application/json")
            .WithSummary("The report: accuracies beside base, individual and task arithmetic; coefficients; objective; timings");
        return app;
    }

    /// <summary>A result of a merge: 404 for an unknown merge, 409 until it has succeeded, 410 once a file's retention ended.</summary>
    private static RouteHandlerBuilder Result(RouteHandlerBuilder route, string? contentType)
    {
        if (contentType is not null) route.Produces(StatusCodes.Status200OK, contentType: contentType).ProducesProblem(StatusCodes.Status410Gone);
        return route.ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
    }

    public static async Task<Accepted<MergeResponse>> Submit(MergeRequest request, AdaMergingDbContext db, BlobStore blobs,
        MergeScheduler scheduler, TimeProvider time, MergeView view, CallbackTargets targets, IOptions<AdaMergingOptions> service, ClaimsPrincipal user, CancellationToken ct)
    {
        var problems = request.Problems().ToList();
        if (request.CallbackUrl is { } callback && Uri.TryCreate(callback, UriKind.Absolute, out var target)
            && System.Net.IPAddress.TryParse(target.Host.Trim('[', ']'), out var literal) && targets.Refusal(literal, target.Host) is { } refused)
            problems.Add(new(RequestProblem.At("callbackUrl"), RequestProblemCode.Invalid, $"callbackUrl: {refused}"));
        if (problems.Count > 0) throw ApiProblemException.Invalid($"the merge request has {problems.Count} problem(s)", problems);
        // Pre-flight and insert under the inputs' locks: a concurrent delete of one either finishes first (pre-flight
        // then refuses) or waits and sees this merge using it (409).
        await using var locked = await Deletion.LockInputsAsync(db, request.Inputs(Guid.Empty).Select(i => i.ResourceId), ct);
        await OwnerQuotas.EnsureMergeSlotAsync(db, user, service.Value, ct);
        var job = await MergeSubmission.PrepareAsync(request, db, blobs, time, user, service.Value.MergeMemoryLimitBytes, ct);
        await db.SaveChangesAsync(ct);
        await locked.CommitAsync(ct);
        await MergeSubmission.QueueAsync(job, db, scheduler, ct);
        return TypedResults.Accepted($"/merges/{job.Id}", view.Of(job));
    }

    public static async Task<Ok<MergePage>> List(AdaMergingDbContext db, ClaimsPrincipal user, MergeView view, CancellationToken ct, string? status = null, string? method = null,
        DateTimeOffset? createdAfter = null, DateTimeOffset? createdBefore = null, Guid? after = null, int limit = 50,
        int? offset = null)
    {
        CursorPaging.EnsureOneForm(after, offset, limit, 500);
        var query = db.Merges.AsNoTracking().VisibleTo(user);
        if (status is not null)
        {
            if (!Enum.TryParse<MergeStatus>(status, ignoreCase: true, out var wanted) || int.TryParse(status, out _))
                throw ApiProblemException.Invalid($"status '{status}' is not one of queued, running, succeeded, failed, cancelled");
            query = query.Where(m => m.Status == wanted);
        }
        if (method is not null) query = query.Where(m => m.Method == method);
        if (createdAfter is { } from) query = query.Where(m => m.CreatedAt >= from);
        if (createdBefore is { } before) query = query.Where(m => m.CreatedAt < before);
        var total = await query.CountAsync(ct);
        if (offset is not { } skip)
        {
            var page = await CursorPaging.PageAsync(query, after, limit, view.Of, ct, maxLimit: 500);
            return TypedResults.Ok(new MergePage(page.Data, page.HasMore, page.FirstId, page.LastId, total));
        }
        var items = (await query.OrderByDescending(m => m.CreatedAt).ThenByDescending(m => m.Id).Skip(skip).Take(limit).ToListAsync(ct)).Select(view.Of).ToList();
#pragma warning disable CS0618 // the deprecated fields, filled for the callers of the offset form (docs/api.md, "Lists")
        return TypedResults.Ok(new MergePage(items, skip + items.Count < total, items.FirstOrDefault()?.Id, items.LastOrDefault()?.Id, total, skip, limit, items));
#pragma warning restore CS0618
    }

    public static async Task<NoContent> Delete(Guid id, AdaMergingDbContext db, BlobCollector collector, ClaimsPrincipal user, CancellationToken ct)
    {
        await using var locked = await Deletion.LockInputsAsync(db, [id], ct);
        var job = await db.Merges.VisibleTo(user).SingleOrDefaultAsync(m => m.Id == id, ct) ?? throw ApiProblemException.NotFound($"merge {id} does not exist");
        if (!job.IsFinished) throw ApiProblemException.Conflict($"merge {id} is {job.Status.ToString().ToLowerInvariant()}; cancel it first");
        await Deletion.EnsureUnusedAsync(db, id, "merge", ct);   // a queued merge reusing its coefficients reads them when it runs
        var blobs = job.ResultFiles.Select(f => f.Sha256).ToList();
        db.Merges.Remove(job);
        await db.SaveChangesAsync(ct);
        await locked.CommitAsync(ct);
        await collector.CollectAsync(blobs, ct);
        return TypedResults.NoContent();
    }

    public static async Task<Ok<MergeResponse>> Cancel(Guid id, AdaMergingDbContext db, MergeScheduler scheduler, IBackgroundJobClient queue,
        TimeProvider time, MergeView view, ClaimsPrincipal user, CancellationToken ct)
    {
        MergeJob job;
        while (true)
        {
            job = await db.Merges.VisibleTo(user).SingleOrDefaultAsync(m => m.Id == id, ct) ?? throw ApiProblemException.NotFound($"merge {id} does not exist");
            if (job.Status == MergeStatus.Cancelled) return TypedResults.Ok(view.Of(job));
            if (job.IsFinished) throw ApiProblemException.Conflict($"merge {id} has already {job.Status.ToString().ToLowerInvariant()}");
            job.Cancel(time.GetUtcNow());
            db.MergeEvents.Add(new MergeEvent(job.Id, MergeEventType.Cancelled, time.GetUtcNow(), "cancelled by its owner"));
            try
            {
                await db.SaveChangesAsync(ct);
                break;
            }
            catch (DbUpdateConcurrencyException)
            {
                db.ChangeTracker.Clear(); // the worker moved it meanwhile (started or finished it): decide again on what it is now
            }
        }
        if (job.QueueJobId is { } queued) scheduler.Withdraw(queued);
        CallbackSender.Enqueue(queue, job.Id);
        return TypedResults.Ok(view.Of(job));
    }

    /// <summary>
    /// With an ETag over the answer's state: a poller that sends If-None-Match gets 304 until something changed. The
    /// elapsed and remaining seconds are read off the clock at each request, so they are left out of it
    /// (<see cref="MergeResponse.StateTag"/>): a running merge's ETag changes with its step, phase or status, not with time.
    /// </summary>
    public static async Task<Results<Ok<MergeResponse>, StatusCodeHttpResult>> Get(Guid id, AdaMergingDbContext db, ClaimsPrincipal user, MergeView view,
        HttpContext http, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, CancellationToken ct)
    {
        var response = view.Of(await FindAsync(id, db, user, ct));
        var etag = response.StateTag(json.Value.SerializerOptions);
        http.Response.Headers.ETag = etag;
        if (http.Request.Headers.IfNoneMatch.Any(v => v is not null && (v == "*" || v.Split(',').Select(t => t.Trim()).Contains(etag))))
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        return TypedResults.Ok(response);
    }

    public static async Task<PhysicalFileHttpResult> DownloadModel(Guid id, AdaMergingDbContext db, BlobStore blobs, ClaimsPrincipal user, CancellationToken ct) =>
        MergeDownloads.Model(MergeDownloads.Succeeded(await FindAsync(id, db, user, ct)), blobs);

    public static async Task<PhysicalFileHttpResult> DownloadFile(Guid id, string fileName, AdaMergingDbContext db, BlobStore blobs, ClaimsPrincipal user, CancellationToken ct) =>
        MergeDownloads.File(MergeDownloads.Succeeded(await FindAsync(id, db, user, ct)), fileName, blobs);

    public static async Task<IResult> Archive(Guid id, AdaMergingDbContext db, BlobStore blobs, ClaimsPrincipal user, HttpContext http,
        CancellationToken ct) =>
        MergeDownloads.Archive(MergeDownloads.Succeeded(await FindAsync(id, db, user, ct)), blobs, http);

    public static async Task<ContentHttpResult> Report(Guid id, AdaMergingDbContext db, ClaimsPrincipal user, CancellationToken ct) =>
        TypedResults.Content(MergeDownloads.Succeeded(await FindAsync(id, db, user, ct), expiredToo: true).ReportJson, "application/json");

    private static async Task<MergeJob> FindAsync(Guid id, AdaMergingDbContext db, ClaimsPrincipal user, CancellationToken ct) =>
        await db.Merges.AsNoTracking().VisibleTo(user).SingleOrDefaultAsync(m => m.Id == id, ct)
        ?? throw ApiProblemException.NotFound($"merge {id} does not exist");
}
