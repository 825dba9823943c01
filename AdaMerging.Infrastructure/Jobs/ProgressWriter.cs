using System.Diagnostics;
using AdaMerging.Domain.Jobs;
using AdaMerging.Domain.Merging;
using AdaMerging.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AdaMerging.Infrastructure.Jobs;

/// <summary>
/// Writes a running merge's progress to its row at most every interval (and at every phase change, and every
/// ObjectiveEventSteps steps, with the matching events: docs/algorithm.md is silent; README, "Seeing a merge"), from the
/// compute thread, in a scope of its own so the job's own context is never shared across threads.
/// </summary>
/// <param name="callbacks">Where a progress callback is queued at each phase change; null when the request wants none.</param>
/// <param name="telemetry">Phase spans, durations and step counts; null where nothing is measured.</param>
public sealed class ProgressWriter(IServiceScopeFactory scopes, Guid mergeId, TimeSpan interval, Hangfire.IBackgroundJobClient? callbacks = null,
    Telemetry.PhaseTelemetry? telemetry = null)
{
    /// <summary>An "objective" event at most every so many steps.</summary>
    public const int ObjectiveEventSteps = 10;

    private readonly Stopwatch _sinceWrite = Stopwatch.StartNew();
    private MergeProgress? _pending;
    private MergePhase? _phase;
    private MergePhase? _writtenPhase;
    private int _objectiveStep = -ObjectiveEventSteps;

    public void Report(MergeProgress progress)
    {
        telemetry?.Report(progress);
        _pending = progress;
        bool objectiveDue = progress.Objective is not null && progress.Step >= _objectiveStep + ObjectiveEventSteps;
        if (progress.Phase == _phase && _sinceWrite.Elapsed < interval && !objectiveDue) return;
        bool phaseChanged = progress.Phase != _phase;
        _phase = progress.Phase;
        FlushAsync().GetAwaiter().GetResult();
        if (phaseChanged && callbacks is not null) CallbackSender.Enqueue(callbacks, mergeId, CallbackEvent.Progress.Wire()); // after the row shows the phase
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
        var now = scope.ServiceProvider.GetRequiredService<TimeProvider>().GetUtcNow();
        if (p.Phase != _writtenPhase)
        {
            _writtenPhase = p.Phase;
            db.MergeEvents.Add(new MergeEvent(mergeId, MergeEventType.Phase, now, $"phase {p.Phase.Wire()}", p.Phase, p.Step, totalSteps: p.TotalSteps));
        }
        if (p.Objective is { } objective && p.Step >= _objectiveStep + ObjectiveEventSteps)
        {
            _objectiveStep = p.Step;
            db.MergeEvents.Add(new MergeEvent(mergeId, MergeEventType.Objective, now, $"step {p.Step} of {p.TotalSteps}: entropy {objective:G6}", p.Phase, p.Step, objective,
                totalSteps: p.TotalSteps));
        }
        try
        {
            await db.SaveChangesAsync();
        }
        catch (DbUpdateConcurrencyException)
        {
            // Its status changed since it was read (its owner cancelled it): the run's own token stops it; no progress is written over that.
        }
    }
}
