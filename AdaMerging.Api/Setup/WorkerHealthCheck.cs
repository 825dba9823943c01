using System.Globalization;
using System.Text.Json;
using AdaMerging.Infrastructure.Jobs;
using AdaMerging.Infrastructure.Options;
using Hangfire;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace AdaMerging.Api.Setup;

/// <summary>
/// How many Hangfire workers are alive per queue (servers whose heartbeat is under two minutes old): the merge queue and
/// the callback queue. Degraded (still 200) when no worker serves the merge queue: submissions wait until one starts.
/// </summary>
public sealed class WorkerHealthCheck(JobStorage storage, IOptions<AdaMergingOptions> options, TimeProvider time) : IHealthCheck
{
    private static readonly TimeSpan Alive = TimeSpan.FromMinutes(2);

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var servers = storage.GetMonitoringApi().Servers().Where(s => s.Heartbeat is { } beat && now - beat < Alive).ToList();
        var queues = new[] { options.Value.Queue, CallbackSender.Queue }.Concat(servers.SelectMany(s => s.Queues)).Distinct(StringComparer.Ordinal);
        var data = queues.ToDictionary(q => q, q => (object)servers.Where(s => s.Queues.Contains(q)).Sum(s => s.WorkersCount), StringComparer.Ordinal);
        var merges = (int)data[options.Value.Queue];
        var description = string.Join(", ", data.Select(d => $"{d.Key}: {d.Value}")) + " workers alive";
        return Task.FromResult(merges > 0 ? HealthCheckResult.Healthy(description, data) : HealthCheckResult.Degraded(description, data: data));
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
