using AdaMerging.Infrastructure.Jobs;
using AdaMerging.Infrastructure.Options;
using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using Microsoft.Extensions.Options;

namespace AdaMerging.Infrastructure.Queue;

/// <summary>
/// Puts a merge on the queue its method needs (docs/deployment.md, "Queues"): AdaMerging, which learns by gradient, on
/// the merge queue (GPU slots); the data-free methods on the CPU queue, so they never wait behind an AdaMerging job.
/// The job carries only the merge id.
/// </summary>
public sealed class MergeScheduler(IBackgroundJobClient client, IOptions<AdaMergingOptions> options)
{
    public string QueueOf(string method) =>
        AdaMerging.Domain.Methods.MergeMethods.Find(method)?.NeedsAdaptationData == false ? options.Value.CpuQueue : options.Value.Queue;

    public string Enqueue(Guid mergeId, string method) => EnqueueOn(mergeId, QueueOf(method));

    /// <summary>The merge's job on a named queue: its method's, or one with a larger device (LargerDevice).</summary>
    public string EnqueueOn(Guid mergeId, string queue) =>
        // The queue is part of the job, not just of its first state, so a retried merge returns to the same queue.
        client.Create(Job.FromExpression<MergeJobRunner>(runner => runner.RunAsync(mergeId, CancellationToken.None), queue), new EnqueuedState(queue));

    /// <summary>
    /// Withdraws a queued job, or asks a running one to stop: Hangfire cancels the running job's token once it sees the
    /// job deleted (checked every second, see the server options).
    /// </summary>
    public void Withdraw(string queueJobId) => client.Delete(queueJobId);
}
