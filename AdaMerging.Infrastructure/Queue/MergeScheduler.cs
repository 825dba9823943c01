using AdaMerging.Infrastructure.Jobs;
using AdaMerging.Infrastructure.Options;
using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using Microsoft.Extensions.Options;

namespace AdaMerging.Infrastructure.Queue;

/// <summary>Puts a merge on the configured Hangfire queue; the job carries only the merge id.</summary>
public sealed class MergeScheduler(IBackgroundJobClient client, IOptions<AdaMergingOptions> options)
{
    public string Enqueue(Guid mergeId) =>
        client.Create(
            // The queue is part of the job, not just of its first state, so a retried merge returns to the GPU queue.
            Job.FromExpression<MergeJobRunner>(runner => runner.RunAsync(mergeId, CancellationToken.None), options.Value.Queue),
            new EnqueuedState(options.Value.Queue));

    /// <summary>
    /// Withdraws a queued job, or asks a running one to stop: Hangfire cancels the running job's token once it sees the
    /// job deleted (checked every second, see the server options).
    /// </summary>
    public void Withdraw(string queueJobId) => client.Delete(queueJobId);
}
