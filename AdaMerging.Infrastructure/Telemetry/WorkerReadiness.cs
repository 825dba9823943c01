using AdaMerging.Domain.Compute;
using AdaMerging.Infrastructure.Jobs;
using AdaMerging.Infrastructure.Options;
using AdaMerging.Infrastructure.Persistence;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using System.Runtime.InteropServices;
using TorchSharp;

namespace AdaMerging.Infrastructure.Telemetry;

/// <summary>One readiness check's outcome: whether it passed and what it saw.</summary>
public sealed record ReadinessCheck(bool Passed, string Description);

/// <summary>
/// Whether this worker process can take merges now (docs/deployment.md, "Health"): the database answers, this
/// process's Hangfire servers have beaten recently, and each of its devices computes (a tensor made and summed there).
/// An orchestrator routes nothing to it, and restarts it, while one fails.
/// </summary>
public sealed class WorkerReadiness(IServiceScopeFactory scopes, JobStorage storage, IServiceProvider services, IOptions<AdaMergingOptions> options,
    TimeProvider time)
{
    /// <summary>A server whose heartbeat is older than this is taken for stopped (Hangfire beats every 30 s).</summary>
    public static readonly TimeSpan Alive = TimeSpan.FromMinutes(2);

    public async Task<IReadOnlyDictionary<string, ReadinessCheck>> CheckAsync(CancellationToken ct) => new Dictionary<string, ReadinessCheck>
    {
        ["database"] = await DatabaseAsync(ct),
        ["heartbeat"] = Heartbeat(),
        ["devices"] = Devices(),
    };

    private async Task<ReadinessCheck> DatabaseAsync(CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var reachable = await scope.ServiceProvider.GetRequiredService<AdaMergingDbContext>().Database.CanConnectAsync(timeout.Token);
            return new ReadinessCheck(reachable, reachable ? "reachable" : "cannot connect");
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException or System.Data.Common.DbException)
        {
            return new ReadinessCheck(false, $"cannot connect: {e.Message}");
        }
    }

    private ReadinessCheck Heartbeat()
    {
        var prefix = $"{options.Value.HostId}:{Environment.ProcessId}";
        var now = time.GetUtcNow().UtcDateTime;
        try
        {
            var mine = storage.GetMonitoringApi().Servers().Where(s => s.Name.StartsWith(prefix, StringComparison.Ordinal)).ToList();
            var stale = mine.Where(s => s.Heartbeat is not { } beat || now - beat >= Alive).Select(s => s.Name).ToList();
            return mine.Count == 0 ? new ReadinessCheck(false, $"no Hangfire server of {prefix} is registered")
                : new ReadinessCheck(stale.Count == 0, stale.Count == 0 ? $"{mine.Count} servers beating" : $"no recent heartbeat from {string.Join(", ", stale)}");
        }
        catch (Exception e) when (e is InvalidOperationException or System.Data.Common.DbException)
        {
            return new ReadinessCheck(false, $"the queue cannot be read: {e.Message}");
        }
    }

    private ReadinessCheck Devices()
    {
        try
        {
            var slots = services.GetRequiredService<DeviceSlots>();
            foreach (var device in slots.Devices)
            {
                using var probe = torch.ones(8, device: TorchDevice.Choose(device)).sum();
                if (probe.cpu().item<float>() != 8) return new ReadinessCheck(false, $"{device} computed a wrong sum");
            }
            return new ReadinessCheck(true, string.Join(", ", slots.Devices) + " compute");
        }
        catch (Exception e) when (e is InvalidOperationException or ExternalException or ArgumentException)
        {
            return new ReadinessCheck(false, e.Message);
        }
    }
}
