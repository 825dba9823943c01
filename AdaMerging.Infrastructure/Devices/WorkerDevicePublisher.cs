using AdaMerging.Domain.Compute;
using AdaMerging.Infrastructure.Jobs;
using AdaMerging.Infrastructure.Options;
using AdaMerging.Infrastructure.Persistence;
using AdaMerging.Infrastructure.Runs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AdaMerging.Infrastructure.Devices;

/// <summary>
/// Publishes the devices this worker process serves its queues with, and their memory, every <see cref="Beat"/>, and
/// withdraws them when it stops (docs/deployment.md, "Devices"): what <see cref="LargerDevice"/> re-queues by.
/// </summary>
public sealed partial class WorkerDevicePublisher(IServiceScopeFactory scopes, IServiceProvider services, IOptions<AdaMergingOptions> options,
    TimeProvider time, ILogger<WorkerDevicePublisher> logger) : BackgroundService
{
    /// <summary>As often as Hangfire's servers beat; a row older than WorkerReadiness.Alive is taken for a stopped worker.</summary>
    public static readonly TimeSpan Beat = TimeSpan.FromSeconds(30);

    public static string ServerName(AdaMergingOptions options) => $"{options.HostId}:{Environment.ProcessId}";

    /// <summary>This process's rows: a merge queue row per device it serves, a CPU queue row when it serves that queue.</summary>
    public IReadOnlyList<WorkerDevice> Rows()
    {
        var o = options.Value;
        var now = time.GetUtcNow();
        long Memory(string device) => o.MergeMemoryLimitBytes > 0 ? o.MergeMemoryLimitBytes : DeviceMemory.Total(TorchDevice.Choose(device)) ?? 0;
        var rows = new List<WorkerDevice>();
        if (o.WorkerCount >= 0)
            rows.AddRange(services.GetRequiredService<DeviceSlots>().Devices.Select(d => new WorkerDevice(ServerName(o), o.Queue, d, Memory(d), learning: true, now)));
        if (o.CpuWorkerCount > 0) rows.Add(new WorkerDevice(ServerName(o), o.CpuQueue, "cpu", Memory("cpu"), learning: false, now));
        return [.. rows.Where(r => r.MemoryBytes > 0)];   // a device whose memory cannot be known is not offered
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Beat, time);
        do
        {
            try
            {
                await PublishAsync(Rows(), stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogNotPublished(e);   // the database is away: the next beat tries again
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await PublishAsync([], cancellationToken);   // withdrawn: nothing is re-queued to a stopped worker
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogNotPublished(e);
        }
    }

    private async Task PublishAsync(IReadOnlyList<WorkerDevice> rows, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AdaMergingDbContext>();
        var server = ServerName(options.Value);
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await db.WorkerDevices.Where(d => d.Server == server).ExecuteDeleteAsync(ct);
        db.WorkerDevices.AddRange(rows);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
    }

    [LoggerMessage(LogLevel.Warning, "This worker's devices could not be published; merges too large elsewhere are not re-queued here until they are")]
    private partial void LogNotPublished(Exception exception);
}
