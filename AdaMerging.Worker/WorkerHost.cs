using AdaMerging.Infrastructure.Options;
using AdaMerging.Infrastructure;
using AdaMerging.Infrastructure.Queue;
using AdaMerging.Infrastructure.Logging;
using AdaMerging.Infrastructure.Telemetry;

namespace AdaMerging.Worker;

/// <summary>The long-running worker: a generic host whose only service is the Hangfire server that runs merges.</summary>
public static class WorkerHost
{
    public static async Task<int> RunAsync(string[] args)
    {
        using var host = Build(args);
        await host.RunAsync();
        return 0;
    }

    public static IHost Build(string[] args, Action<HostApplicationBuilder>? configure = null)
    {
        AdaMerging.Domain.Compute.HostMemory.Use(AdaMerging.Domain.Diagnostics.ProcessMemory.Glibc); // the merges' trims and per-phase memory
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddFileSecrets(); // ConnectionStrings__Postgres_FILE and the like (docs/deployment.md, "Secrets")
        configure?.Invoke(builder);
        builder.Services.AddAdaMergingLogging(builder.Configuration);
        builder.Services.AddAdaMergingCore(builder.Configuration);
        builder.Services.AddAdaMergingTelemetry(builder.Configuration, "adamerging-worker");
        builder.Services.AddWorkerMetricsEndpoint();
        builder.Services.AddMergeWorker(builder.Configuration);
        return builder.Build();
    }
}
