using AdaMerging.Domain.Compute;
using AdaMerging.Infrastructure.Jobs;
using AdaMerging.Infrastructure.Options;
using AdaMerging.Infrastructure.Persistence;
using Hangfire;
using Hangfire.AspNetCore;
using Hangfire.PostgreSql;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AdaMerging.Infrastructure.Queue;

public static class QueueServiceCollectionExtensions
{
    /// <summary>
    /// Hangfire on PostgreSQL with its storage and activator held by this container, never the static globals,
    /// so two hosts in one process (tests) keep to their own databases. Long polling (LISTEN/NOTIFY) starts a job
    /// in milliseconds instead of a poll interval; the sliding invisibility timeout hands a dead worker's job to
    /// another within minutes without ever running a live one twice.
    /// </summary>
    public static IServiceCollection AddMergeQueue(this IServiceCollection services)
    {
        services.AddSingleton(sp => new PostgreSqlStorageOptions
        {
            SchemaName = "hangfire",
            PrepareSchemaIfNecessary = false, // DatabaseStartup installs it once the database is up
            EnableLongPolling = true,
            UseSlidingInvisibilityTimeout = true,
            InvisibilityTimeout = TimeSpan.FromSeconds(sp.GetRequiredService<IOptions<AdaMergingOptions>>().Value.QueueInvisibilitySeconds),
            // Long polling wakes workers for new jobs; the poll finds jobs whose worker died once they turn visible.
            QueuePollInterval = TimeSpan.FromSeconds(Math.Min(5, sp.GetRequiredService<IOptions<AdaMergingOptions>>().Value.QueueInvisibilitySeconds / 2.0)),
            DistributedLockTimeout = TimeSpan.FromMinutes(1),
        });
        services.AddSingleton<JobStorage>(sp =>
        {
            var storageOptions = sp.GetRequiredService<PostgreSqlStorageOptions>();
            return new PostgreSqlStorage(new DeferredConnectionFactory(sp.GetRequiredService<DatabaseConnection>()), storageOptions);
        });
        services.AddSingleton<JobActivator>(sp => new AspNetCoreJobActivator(sp.GetRequiredService<IServiceScopeFactory>()));
        services.AddHangfire(configuration => configuration
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings());
        services.AddSingleton<MergeScheduler>();
        return services;
    }

    /// <summary>
    /// The Hangfire servers that run merges: the merge queue with one slot per device slot (<see cref="DeviceSlots"/>)
    /// unless configured, the CPU queue with its own slots, and the callbacks' own workers (docs/deployment.md).
    /// </summary>
    public static IServiceCollection AddMergeWorker(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddScoped<MergeJobRunner>();
        services.AddScoped<Devices.LargerDevice>();
        services.AddHostedService<Devices.WorkerDevicePublisher>();   // what LargerDevice re-queues by
        services.AddScoped<CallbackSender>();
        services.AddHttpClient(nameof(CallbackSender), c => c.Timeout = TimeSpan.FromSeconds(30))
            .ConfigurePrimaryHttpMessageHandler(sp =>
            {
                var targets = sp.GetRequiredService<CallbackTargets>();
                // Every connection goes through the address check; redirects are not followed (the receiver answers itself).
                // No proxy: through one, the address checked would be the proxy's, not the receiver's.
                return new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false, ConnectCallback = (context, ct) => targets.ConnectAsync(context.DnsEndPoint, ct) };
            });
        // Callbacks on their own workers: a delivery never waits behind a running merge.
        services.AddHangfireServer((sp, server) =>
        {
            var options = sp.GetRequiredService<IOptions<AdaMergingOptions>>().Value;
            server.Queues = [CallbackSender.Queue];
            server.WorkerCount = options.CallbackWorkerCount;
            server.ServerName = $"{options.HostId}:{Environment.ProcessId}:callbacks";
            server.SchedulePollingInterval = TimeSpan.FromSeconds(1);
        });
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<AdaMergingOptions>>().Value;
            var devices = options.Devices.Count > 0 ? options.Devices
                : options.Device.Equals("cpu", StringComparison.OrdinalIgnoreCase) ? ["cpu"] : TorchDevice.Visible();
            foreach (var device in devices) TorchDevice.Choose(device); // an unknown or absent device stops the worker at start
            return new DeviceSlots(devices, options.SlotsPerDevice);
        });
        // The merge queue: one slot per device slot; the CPU queue: its own slots, so data-free merges never wait behind AdaMerging.
        // Which servers run is known from configuration now; their sizes when the container is built.
        var configured = configuration.GetSection(AdaMergingOptions.Section).Get<AdaMergingOptions>() ?? new AdaMergingOptions();
        if (configured.WorkerCount >= 0)
            AddMergeServer(services, "", o => o.Queue, (o, sp) => o.WorkerCount == 0 ? sp.GetRequiredService<DeviceSlots>().Capacity : o.WorkerCount);
        if (configured.CpuWorkerCount > 0) AddMergeServer(services, ":cpu", o => o.CpuQueue, (o, _) => o.CpuWorkerCount);
        return services;
    }

    private static void AddMergeServer(IServiceCollection services, string suffix, Func<AdaMergingOptions, string> queue,
        Func<AdaMergingOptions, IServiceProvider, int> workers) =>
        services.AddHangfireServer((sp, server) =>
        {
            var options = sp.GetRequiredService<IOptions<AdaMergingOptions>>().Value;
            server.Queues = [queue(options)];
            server.WorkerCount = workers(options, sp);
            server.ServerName = $"{options.HostId}:{Environment.ProcessId}{suffix}";
            server.ShutdownTimeout = TimeSpan.FromSeconds(30);
            server.SchedulePollingInterval = TimeSpan.FromSeconds(5);
            server.CancellationCheckInterval = TimeSpan.FromSeconds(1); // a cancelled merge stops within about a second
        });
}
