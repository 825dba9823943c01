using System.Text;
using System.Text.Json;
using AdaMerging.Domain.Jobs;
using AdaMerging.Infrastructure.Contract;
using AdaMerging.Infrastructure.Options;
using AdaMerging.Infrastructure.Persistence;
using Hangfire;
using Hangfire.States;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StandardWebhooks;

namespace AdaMerging.Infrastructure.Jobs;

/// <summary>
/// POSTs a merge's events to the request's callbackUrl, signed as Standard Webhooks specifies (webhook-id,
/// webhook-timestamp, webhook-signature: HMAC-SHA256 under the owner's secret, <see cref="WebhookSecrets"/>), with
/// absolute links to the results. A Hangfire job of its own, on its own workers: a refused or unreachable receiver is
/// retried with growing delays and never holds up a merge; a target on a forbidden address is refused and logged, not
/// retried (<see cref="CallbackTargets"/>).
/// </summary>
public sealed partial class CallbackSender(AdaMergingDbContext db, IHttpClientFactory http, WebhookSecrets secrets, IOptions<AdaMergingOptions> options,
    TimeProvider time, ILogger<CallbackSender> logger)
{
    public const string Queue = "callbacks";


    /// <summary>Whether the stored request has a callback that wants <paramref name="eventType"/>.</summary>
    public static bool Wants(string requestJson, string eventType) =>
        JsonSerializer.Deserialize<MergeRequest>(requestJson, JsonSerializerOptions.Web) is { CallbackUrl: not null } r
        && (r.CallbackEvents ?? MergeProtocol.DefaultCallbackEvents).Contains(eventType);

    /// <param name="eventType">started, or progress (at a phase change); null: the final event, from the merge's status.</param>
    public static void Enqueue(IBackgroundJobClient client, Guid mergeId, string? eventType = null) =>
        // The queue is part of the job, not just of its first state, so retries come back to the same queue.
        client.Create(Hangfire.Common.Job.FromExpression<CallbackSender>(s => s.SendAsync(mergeId, eventType, CancellationToken.None), Queue),
            new EnqueuedState(Queue));

    // Backoff: 2 s, 10 s, 30 s, 1 min, 5 min, 15 min, 30 min, 1 h; then the callback is given up (the status stays pollable).
    [AutomaticRetry(Attempts = 8, DelaysInSeconds = [2, 10, 30, 60, 300, 900, 1800, 3600], OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    public async Task SendAsync(Guid mergeId, string? eventType, CancellationToken cancellationToken)
    {
        var job = await db.Merges.AsNoTracking().SingleOrDefaultAsync(m => m.Id == mergeId, cancellationToken);
        if (job is null) return;
        var request = JsonSerializer.Deserialize<MergeRequest>(job.RequestJson, JsonSerializerOptions.Web);
        eventType ??= job.Status switch
        {
            MergeStatus.Succeeded => MergeProtocol.SucceededName(request?.CallbackEvents),   // "completed" for who asked for the old name alone
            MergeStatus.Failed => CallbackEvent.Failed.Wire(),
            MergeStatus.Cancelled => CallbackEvent.Cancelled.Wire(),
            _ => null,
        };
        if (eventType is null || request?.CallbackUrl is not { } url || !(request.CallbackEvents ?? MergeProtocol.DefaultCallbackEvents).Contains(eventType)) return;
        var now = time.GetUtcNow();
        var messageId = $"msg_{job.Id:N}_{eventType}" + (eventType == CallbackEvent.Progress.Wire() ? "_" + job.Phase : "");
        var payload = JsonSerializer.Serialize(Body(job, eventType, now), JsonSerializerOptions.Web);
        using var message = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(payload, Encoding.UTF8, "application/json") };
        message.Headers.Add("webhook-id", messageId);
        message.Headers.Add("webhook-timestamp", now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        message.Headers.Add("webhook-signature", new StandardWebhook(secrets.For(job.Owner)).Sign(messageId, now, payload));
        using var client = http.CreateClient(nameof(CallbackSender));
        try
        {
            using var response = await client.SendAsync(message, cancellationToken);
            response.EnsureSuccessStatusCode(); // a refusal throws, and Hangfire tries again later
            LogDelivered(mergeId, eventType, (int)response.StatusCode);
        }
        catch (HttpRequestException e) when (e.InnerException is CallbackRefusedException refused)
        {
            LogRefused(mergeId, Redacted(url), refused.Message); // not retried: the address will not become allowed by waiting
        }
        catch (HttpRequestException e)
        {
            LogFailed(eventType, mergeId, Redacted(url), e.Message); // the operator sees why; Hangfire tries again later
            throw;
        }
    }

    private object Body(MergeJob job, string eventType, DateTimeOffset now)
    {
        var self = $"{options.Value.PublicUrl.TrimEnd('/')}/merges/{job.Id}";
        bool done = job.Status == MergeStatus.Succeeded;
        return new
        {
            type = "merge." + eventType,
            timestamp = now,
            id = job.Id,
            status = job.Status.ToString().ToLowerInvariant(),
            error = job.Error,
            progress = new { phase = job.Phase, step = job.Step, totalSteps = job.TotalSteps, objective = job.Objective },
            finishedAt = job.FinishedAt,
            links = new
            {
                self,
                report = done ? self + "/report" : null,
                model = done && job.ResultFiles.Any(f => f.FileName == "model.safetensors") ? self + "/model" : null,
                archive = done ? self + "/archive" : null,
            },
        };
    }

    /// <summary>The target without credentials or query (they may be secrets): scheme, host, port and path.</summary>
    private static string Redacted(string url) => Uri.TryCreate(url, UriKind.Absolute, out var u) ? $"{u.Scheme}://{u.Host}:{u.Port}{u.AbsolutePath}" : "(invalid)";

    [LoggerMessage(LogLevel.Information, "Callback {Event} for merge {MergeId} delivered ({Status})")]
    private partial void LogDelivered(Guid mergeId, string @event, int status);

    [LoggerMessage(LogLevel.Warning, "Callback {Event} for merge {MergeId} to {Target} failed, to be retried: {Reason}")]
    private partial void LogFailed(string @event, Guid mergeId, string target, string reason);

    [LoggerMessage(LogLevel.Warning, "Callback for merge {MergeId} to {Target} refused: {Reason}")]
    private partial void LogRefused(Guid mergeId, string target, string reason);
}
