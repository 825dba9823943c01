using System.Globalization;
using System.Text.Json;
using AdaMerging.Infrastructure.Jobs;
using AdaMerging.Infrastructure.Options;
using Hangfire;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace AdaMerging.Api.Setup;

/// <summary>
/// How many Hangfire workers are alive per queue (servers whose heartbeat is under two minutes old): the merge queue, the
/// CPU queue and the callback queue. Degraded (still 200) when no worker serves one of the merge queues: submissions to it
/// wait until one starts.
/// </summary>
public sealed class WorkerHealthCheck(JobStorage storage, IOptions<AdaMergingOptions> options, TimeProvider time) : IHealthCheck
{
    private static readonly TimeSpan Alive = AdaMerging.Infrastructure.Telemetry.WorkerReadiness.Alive; // one threshold, API and worker

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = AlivePerQueue(storage, options.Value, time).ToDictionary(d => d.Key, d => (object)d.Value, StringComparer.Ordinal);
        var merges = Math.Min((int)data[options.Value.Queue], (int)data[options.Value.CpuQueue]);
        var description = string.Join(", ", data.Select(d => $"{d.Key}: {d.Value}")) + " workers alive";
        return Task.FromResult(merges > 0 ? HealthCheckResult.Healthy(description, data) : HealthCheckResult.Degraded(description, data: data));
    }

    /// <summary>Workers alive per queue: the merge, CPU and callback queues always, and any other a server listens on.</summary>
    public static IReadOnlyDictionary<string, int> AlivePerQueue(JobStorage storage, AdaMergingOptions options, TimeProvider time)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var servers = storage.GetMonitoringApi().Servers().Where(s => s.Heartbeat is { } beat && now - beat < Alive).ToList();
        var queues = new[] { options.Queue, options.CpuQueue, CallbackSender.Queue }.Concat(servers.SelectMany(s => s.Queues)).Distinct(StringComparer.Ordinal);
        return queues.ToDictionary(q => q, q => servers.Where(s => s.Queues.Contains(q)).Sum(s => s.WorkersCount), StringComparer.Ordinal);
    }

    /// <summary>The ready answer as JSON: the overall status and each check's status, description and data.</summary>
    public static Task WriteAsync(HttpContext http, HealthReport report)
    {
        http.Response.ContentType = "application/json";
        return http.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new
            {
                status = e.Value.Status.ToString(),
                description = e.Value.Description ?? e.Value.Exception?.Message,
                data = e.Value.Data.ToDictionary(d => d.Key, d => Convert.ToString(d.Value, CultureInfo.InvariantCulture)),
            }),
        }, JsonSerializerOptions.Web));
    }
}
