using AdaMerging.Infrastructure.Options;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AdaMerging.Infrastructure.Blobs;

/// <summary>
/// Every <c>BlobSweepSeconds</c>: removes the results of merges past their retention, expired uploads and
/// Idempotency-Keys (<see cref="UploadExpiry"/>), then the blobs nothing references (those a delete left inside the
/// grace period, and the expired results').
/// </summary>
public sealed partial class BlobSweeper(IServiceScopeFactory scopes, IOptions<AdaMergingOptions> options, TimeProvider time, ILogger<BlobSweeper> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.BlobSweepSeconds), time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var freed = await SweepOnceAsync(scopes, stoppingToken);
                if (freed > 0) LogSwept(freed);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogFailed(e); // the database may be down for a while; the next sweep tries again
            }
        }
    }

    /// <summary>One sweep (what each tick does), for the ticks and for a caller that moves the clock itself; returns the bytes freed.</summary>
    public static async Task<long> SweepOnceAsync(IServiceScopeFactory scopes, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var collector = scope.ServiceProvider.GetRequiredService<BlobCollector>();
        await collector.ExpireResultsAsync(ct);
        var freed = await scope.ServiceProvider.GetRequiredService<UploadExpiry>().ExpireAsync(ct);
        return freed + await collector.SweepAsync(ct);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Blob sweep freed {Bytes} bytes")]
    private partial void LogSwept(long bytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Blob sweep failed; the next one tries again")]
    private partial void LogFailed(Exception e);
}
