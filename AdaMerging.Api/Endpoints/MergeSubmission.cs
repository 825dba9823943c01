using System.Security.Claims;
using System.Text.Json;
using AdaMerging.Api.Access;
using AdaMerging.Api.Errors;
using AdaMerging.Domain.Jobs;
using AdaMerging.Infrastructure.Blobs;
using AdaMerging.Infrastructure.Contract;
using AdaMerging.Infrastructure.Persistence;
using AdaMerging.Infrastructure.Queue;
using Microsoft.EntityFrameworkCore;

namespace AdaMerging.Api.Endpoints;

/// <summary>
/// A merge from a checked request to the queue, shared by <c>POST /merges</c> and <c>POST /experiments</c>: the
/// caller holds the inputs' locks and the owner's slots; <see cref="PrepareAsync"/> pre-flights the request and adds
/// the job, its inputs and its first event to the context; after the caller saves and commits, <see cref="QueueAsync"/>
/// hands it to the queue.
/// </summary>
public static class MergeSubmission
{
    public static async Task<MergeJob> PrepareAsync(MergeRequest request, AdaMergingDbContext db, BlobStore blobs, TimeProvider time, ClaimsPrincipal user,
        long memoryLimit, CancellationToken ct)
    {
        var (resolved, reuseProblem) = await CoefficientsReuse.ResolveAsync(request, db.Merges.VisibleTo(user), ct);
        if (resolved is null) throw ApiProblemException.Unprocessable("the merge's inputs do not fit together", [reuseProblem!]);
        await MergePreflight.CheckAsync(resolved, db, blobs, user, memoryLimit, ct);
        var job = new MergeJob(Guid.NewGuid(), request.Method, JsonSerializer.Serialize(request, JsonSerializerOptions.Web), time.GetUtcNow());
        job.OwnedBy(user.Owner());
        job.Traced(AdaMerging.Infrastructure.Telemetry.Tracing.CurrentParent());
        if (request.Metadata is { } metadata) job.Annotate(metadata);
        db.Merges.Add(job);
        db.MergeInputs.AddRange(request.Inputs(job.Id));
        db.MergeEvents.Add(new MergeEvent(job.Id, MergeEventType.Queued, time.GetUtcNow(), $"{request.Method} over {request.Tasks.Count} tasks queued"));
        return job;
    }

    /// <summary>Queues a saved job; a worker may have started it already (the status is a concurrency token), so only the queue's id is written.</summary>
    public static async Task QueueAsync(MergeJob job, AdaMergingDbContext db, MergeScheduler scheduler, CancellationToken ct)
    {
        job.Queued(scheduler.Enqueue(job.Id, job.Method));
        await db.Merges.Where(m => m.Id == job.Id).ExecuteUpdateAsync(s => s.SetProperty(m => m.QueueJobId, job.QueueJobId), ct);
    }
}
