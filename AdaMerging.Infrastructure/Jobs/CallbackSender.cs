using System.Net.Http.Json;
using System.Text.Json;
using AdaMerging.Domain.Jobs;
using AdaMerging.Infrastructure.Contract;
using AdaMerging.Infrastructure.Persistence;
using Hangfire;
using Hangfire.States;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace AdaMerging.Infrastructure.Jobs;

/// <summary>
/// POSTs a finished merge's final status to the request's callbackUrl, so other services need not poll. A Hangfire
/// job of its own: a refused or unreachable callback is retried with Hangfire's growing delays, and never holds up
/// a merge worker.
/// </summary>
public sealed partial class CallbackSender(AdaMergingDbContext db, IHttpClientFactory http, ILogger<CallbackSender> logger)
{
    public const string Queue = "callbacks";

    public static void Enqueue(IBackgroundJobClient client, Guid mergeId) =>
        // The queue is part of the job, not just of its first state, so retries come back to the same queue.
        client.Create(Hangfire.Common.Job.FromExpression<CallbackSender>(s => s.SendAsync(mergeId, CancellationToken.None), Queue), new EnqueuedState(Queue));

    // Backoff: 2 s, 10 s, 30 s, 1 min, 5 min, 15 min, 30 min, 1 h; then the callback is given up (the status stays pollable).
    [AutomaticRetry(Attempts = 8, DelaysInSeconds = [2, 10, 30, 60, 300, 900, 1800, 3600], OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    public async Task SendAsync(Guid mergeId, CancellationToken cancellationToken)
    {
        var job = await db.Merges.AsNoTracking().SingleOrDefaultAsync(m => m.Id == mergeId, cancellationToken);
        if (job is null || !job.IsFinished) return;
        var request = JsonSerializer.Deserialize<MergeRequest>(job.RequestJson, JsonSerializerOptions.Web);
        if (request?.CallbackUrl is not { } url) return;
        var body = new
        {
            id = job.Id,
            status = job.Status.ToString().ToLowerInvariant(),
            error = job.Error,
            finishedAt = job.FinishedAt,
            links = new { self = $"/merges/{job.Id}", report = job.Status == MergeStatus.Succeeded ? $"/merges/{job.Id}/report" : null },
        };
        using var client = http.CreateClient(nameof(CallbackSender));
        using var response = await client.PostAsJsonAsync(url, body, JsonSerializerOptions.Web, cancellationToken);
        response.EnsureSuccessStatusCode(); // a refusal throws, and Hangfire tries again later
        LogDelivered(mergeId, (int)response.StatusCode);
    }

    [LoggerMessage(LogLevel.Information, "Callback for merge {MergeId} delivered ({Status})")]
    private partial void LogDelivered(Guid mergeId, int status);
}
