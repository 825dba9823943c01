using System.Diagnostics;
using AdaMerging.Domain.Jobs;

namespace AdaMerging.Domain.Methods;

/// <summary>
/// A learning method's steps as the worker runs them (AdaMerging's and AdaRank's): each step reported to the clock as
/// the optimise phase, the run's state saved every <see cref="Merging.IRunSnapshots.Interval"/> and once more on a
/// graceful stop, so that the next attempt resumes from every finished step (docs/algorithm.md, "AdaMerging").
/// </summary>
public static class SnapshottedSteps
{
    /// <param name="run">Runs the remaining steps, calling its progress action after each.</param>
    /// <param name="snapshot">The run's state now.</param>
    public static void Run(MergeContext context, Action<Action<StepProgress>, CancellationToken> run, Func<AdaMergingState> snapshot, CancellationToken ct)
    {
        var snapshots = context.Snapshots;
        var clock = Stopwatch.StartNew();
        var saved = Stopwatch.StartNew();
        try
        {
            run(p =>
            {
                context.Clock.Step(MergePhase.Optimise, p.Step, p.TotalSteps, p.Objective);
                if (snapshots is null || saved.Elapsed < snapshots.Interval) return;
                snapshots.Save(snapshot());
                saved.Restart();
            }, ct);
        }
        catch (OperationCanceledException) when (snapshots is not null)
        {
            snapshots.Save(snapshot());   // a graceful stop keeps every finished step for the next attempt
            throw;
        }
        context.Clock.Add(MergePhase.Optimise, clock.Elapsed);
    }
}
