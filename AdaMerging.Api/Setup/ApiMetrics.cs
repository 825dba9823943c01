using AdaMerging.Domain.Jobs;
using AdaMerging.Infrastructure.Jobs;
using AdaMerging.Infrastructure.Options;
using AdaMerging.Infrastructure.Persistence;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Prometheus;

namespace AdaMerging.Api.Setup;

/// <summary>
/// The service's state as Prometheus reads it from the API (docs/api.md, "Observability"): queue depth per queue,
/// merges per state, workers alive per queue (read from the database and Hangfire at each scrape, so every API
/// replica reports the same), and the bytes this replica took in as uploads.
/// </summary>
public sealed class ApiMetrics
{
    private readonly Counter _uploaded;

    public ApiMetrics(CollectorRegistry registry, IServiceScopeFactory scopes, JobStorage storage, IOptions<AdaMergingOptions> options, TimeProvider time)
    {
        var factory = Metrics.WithCustomRegistry(registry);
        _uploaded = factory.CreateCounter("adamerging_uploaded_bytes_total", "Bytes received as uploads (checkpoints, heads, datasets), by kind",
            new CounterConfiguration { LabelNames = ["kind"] });
        var queueDepth = factory.CreateGauge("adamerging_queue_depth", "Jobs waiting in each Hangfire queue", new GaugeConfiguration { LabelNames = ["queue"] });
        var merges = factory.CreateGauge("adamerging_merges", "Merges in each state", new GaugeConfiguration { LabelNames = ["state"] });
        var workers = factory.CreateGauge("adamerging_workers_alive", "Hangfire workers alive per queue (heartbeat under two minutes old)",
            new GaugeConfiguration { LabelNames = ["queue"] });
        registry.AddBeforeCollectCallback(async ct =>
        {
            var monitoring = storage.GetMonitoringApi();
            var alive = WorkerHealthCheck.AlivePerQueue(storage, options.Value, time);
            foreach (var (queue, count) in alive)
            {
                workers.WithLabels(queue).Set(count);
                queueDepth.WithLabels(queue).Set(monitoring.EnqueuedCount(queue));
            }
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AdaMergingDbContext>();
            var counts = await db.Merges.GroupBy(m => m.Status).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(ct);
            foreach (var state in Enum.GetValues<MergeStatus>())
                merges.WithLabels(state.ToString().ToLowerInvariant()).Set(counts.SingleOrDefault(c => c.Key == state)?.Count ?? 0);
        });
    }

    public void Uploaded(string kind, long bytes) => _uploaded.WithLabels(kind).Inc(bytes);
}

public static class MetricsSetup
{
    public static IServiceCollection AddApiMetrics(this IServiceCollection services) => services.AddSingleton<ApiMetrics>();

    /// <summary>
    /// With AdaMerging:MetricsPort, the API also listens on that port, for /metrics alone (docs/deployment.md, "Metrics").
    /// </summary>
    public static WebApplicationBuilder ListenForMetrics(this WebApplicationBuilder builder)
    {
        var port = builder.Configuration.GetValue<int>($"{AdaMergingOptions.Section}:{nameof(AdaMergingOptions.MetricsPort)}");
        if (port <= 0) return builder;
        var urls = (builder.Configuration[WebHostDefaults.ServerUrlsKey] ?? "http://localhost:5000").Split(';', StringSplitOptions.RemoveEmptyEntries);
        builder.WebHost.UseUrls([.. urls, $"http://+:{port}"]);
        return builder;
    }

    /// <summary>
    /// GET /metrics in Prometheus text format: on the metrics port without a key (a port the deployment keeps inside),
    /// or, without one, on the public port behind an admin key (Prometheus sends it as a bearer credential).
    /// </summary>
    public static WebApplication MapApiMetrics(this WebApplication app)
    {
        app.Services.GetRequiredService<ApiMetrics>(); // registers the scrape-time gauges
        var registry = app.Services.GetRequiredService<CollectorRegistry>();
        app.UseHttpMetrics(o => o.SetMetricFactory(Metrics.WithCustomRegistry(registry)));
        var port = app.Services.GetRequiredService<IOptions<AdaMergingOptions>>().Value.MetricsPort;
        var metrics = app.MapMetrics("/metrics", registry).ExcludeFromDescription();
        if (port > 0) metrics.AllowAnonymous().RequireHost($"*:{port}");
        else metrics.RequireAuthorization(AccessSetup.AdminPolicy);
        return app;
    }
}
