using System.Diagnostics;
using AdaMerging.Domain.Jobs;
using AdaMerging.Domain.Merging;
using AdaMerging.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AdaMerging.Infrastructure.Jobs;

/// <summary>
/// Writes a running merge's progress to its row at most every interval (and at every phase change), from the
/// compute thread, in a scope of its own so the job's own context is never shared across threads.
/// </summary>
/// <param name="callbacks">Where a progress callback is queued at each phase change; null when the request wants none.</param>
public sealed class ProgressWriter(IServiceScopeFactory scopes, Guid mergeId, TimeSpan interval, Hangfire.IBackgroundJobClient? callbacks = null)
{
    private readonly Stopwatch _sinceWrite = Stopwatch.StartNew();
    private MergeProgress? _pending;
    private string? _phase;

    public void Report(MergeProgress progress)
    {
        _pending = progress;
        if (progress.Phase == _phase && _sinceWrite.Elapsed < interval) return;
        bool phaseChanged = progress.Phase != _phase;
        _phase = progress.Phase;
        FlushAsync().GetAwaiter().GetResult();
        if (phaseChanged && callbacks is not null) CallbackSender.Enqueue(callbacks, mergeId, "progress"); // after the row shows the phase
    }

    public async Task FlushAsync()
    {
        if (_pending is not { } p) return;
        _pending = null;
        _sinceWrite.Restart();
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AdaMergingDbContext>();
        var job = await db.Merges.SingleAsync(m => m.Id == mergeId);
        if (job.Status != MergeStatus.Running) return;
        job.ReportProgress(p.Phase, p.Step, p.TotalSteps, p.Objective);
        await db.SaveChangesAsync();
    }
}
