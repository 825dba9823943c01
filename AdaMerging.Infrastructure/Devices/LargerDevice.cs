using AdaMerging.Domain.Jobs;
using AdaMerging.Domain.Merging;
using AdaMerging.Infrastructure.Options;
using AdaMerging.Infrastructure.Persistence;
using AdaMerging.Infrastructure.Queue;
using AdaMerging.Infrastructure.Telemetry;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AdaMerging.Infrastructure.Devices;

/// <summary>
/// A merge over its device's memory goes, before it runs, to the queue of a live worker whose device is large enough
/// (the smallest such), rather than failing for good (docs/deployment.md, "Devices"). Only when no live worker has one
/// does it fail, as it would have before.
/// </summary>
public sealed class LargerDevice(AdaMergingDbContext db, MergeScheduler scheduler, TimeProvider time, IOptions<AdaMergingOptions> options)
{
    /// <summary>The smallest live device of another queue of the same kind that holds <paramref name="estimateBytes"/>, or null.</summary>
    public Task<WorkerDevice?> FindAsync(long estimateBytes, bool learning, CancellationToken ct)
    {
        var since = time.GetUtcNow() - WorkerReadiness.Alive;
        var here = learning ? options.Value.Queue : options.Value.CpuQueue;
        return db.WorkerDevices.AsNoTracking()
            .Where(d => d.SeenAt >= since && d.Learning == learning && d.Queue != here && d.MemoryBytes >= estimateBytes)
            .OrderBy(d => d.MemoryBytes).ThenBy(d => d.Queue).FirstOrDefaultAsync(ct);
    }

    /// <summary>
    /// Re-queues the (running, unsaved) merge when a larger device exists: false leaves it to fail. The new queue job
    /// is made before the merge is saved as queued, so a save that fails leaves a job that finds the merge and runs it
    /// (or finds it cancelled and stops), never a queued merge with no job.
    /// </summary>
    public async Task<bool> RequeueAsync(MergeJob job, DeviceMemoryExceededException tooLarge, bool learning, CancellationToken ct)
    {
        if (await FindAsync(tooLarge.EstimateBytes, learning, ct) is not { } target) return false;
        var from = $"{job.Device ?? "cpu"} on {job.Host}";
        job.Requeue();
        job.Queued(scheduler.EnqueueOn(job.Id, target.Queue));
        db.MergeEvents.Add(new MergeEvent(job.Id, MergeEventType.Queued, time.GetUtcNow(),
            $"re-queued on '{target.Queue}': it needs an estimated {MemoryLimit.Gb(tooLarge.EstimateBytes)}, over the {MemoryLimit.Gb(tooLarge.LimitBytes)} "
            + $"of {from}; {target.Device} of {target.Server} has {MemoryLimit.Gb(target.MemoryBytes)}"));
        return true;
    }
}
