using AdaMerging.Infrastructure.Options;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Prometheus;

namespace AdaMerging.Infrastructure.Telemetry;

public static class TelemetryServiceCollectionExtensions
{
    /// <summary>
    /// This host's metrics registry (its own, never the process-wide default, so hosts in one process stay apart) and
    /// OpenTelemetry tracing of the service's spans and outgoing HTTP (callbacks), W3C trace context throughout. Spans
    /// are exported by OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set; without it they still give every log line its
    /// trace id (docs/api.md, "Observability").
    /// </summary>
    public static IServiceCollection AddAdaMergingTelemetry(this IServiceCollection services, IConfiguration configuration, string serviceName,
        Action<TracerProviderBuilder>? instrument = null)
    {
        services.AddSingleton(_ => Metrics.NewCustomRegistry());
        services.AddSingleton<WorkerMetrics>();
        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(serviceName))
            .WithTracing(tracing =>
            {
                tracing.AddSource(Tracing.SourceName).AddHttpClientInstrumentation();
                instrument?.Invoke(tracing);
                if (!string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"])) tracing.AddOtlpExporter();
            });
        return services;
    }

    /// <summary>The worker's /metrics and /health/{live,ready} on its own port (AdaMerging:WorkerMetricsPort; 0: none).</summary>
    public static IServiceCollection AddWorkerMetricsEndpoint(this IServiceCollection services) =>
        services.AddHostedService<WorkerMetricsServer>().AddSingleton<WorkerReadiness>().AddHostedService<WorkerHealthServer>();
}

/// <summary>Serves the worker host's registry at http://{WorkerMetricsHost}:{WorkerMetricsPort}/metrics while the host runs.</summary>
/// <remarks>Takes <see cref="WorkerMetrics"/> so its series exist (at zero) from the first scrape on.</remarks>
public sealed class WorkerMetricsServer(CollectorRegistry registry, WorkerMetrics metrics, IOptions<AdaMergingOptions> options) : IHostedService, IDisposable
{
    private MetricServer? _server;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = metrics;
        if (options.Value.WorkerMetricsPort > 0)
            _server = (MetricServer)new MetricServer(options.Value.WorkerMetricsHost, options.Value.WorkerMetricsPort, "metrics/", registry).Start();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is not null) await _server.StopAsync();
    }

    public void Dispose() => _server?.Dispose();
}
