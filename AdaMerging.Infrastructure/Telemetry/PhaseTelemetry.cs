using AdaMerging.Domain.Jobs;
using System.Diagnostics;
using AdaMerging.Domain.Merging;

namespace AdaMerging.Infrastructure.Telemetry;

/// <summary>
/// Turns a merge's progress reports into one span and one duration per phase, and counts its optimisation steps
/// (docs/api.md, "Observability"). Called from the compute thread only, in report order.
/// </summary>
public sealed class PhaseTelemetry(WorkerMetrics metrics, string method, ActivityContext merge)
{
    private readonly Stopwatch _phaseClock = new();
    private Activity? _span;
    private MergePhase? _phase;
    private int _step;

    public void Report(MergeProgress progress)
    {
        if (progress.Phase != _phase)
        {
            EndPhase();
            _phase = progress.Phase;
            // A report with an objective says a step just ended: that step belongs to this phase (and after a resumption,
            // the steps before it were counted by the attempt that took them).
            _step = progress.Objective is null ? progress.Step : progress.Step - 1;
            _phaseClock.Restart();
            _span = Tracing.Source.StartActivity($"phase {progress.Phase.Wire()}", ActivityKind.Internal, merge);
            _span?.SetTag("merge.phase", progress.Phase.Wire());
        }
        if (progress.Objective is not null && progress.Step > _step)
        {
            metrics.Steps.WithLabels(method).Inc(progress.Step - _step);
            _step = progress.Step;
        }
    }

    /// <summary>Ends the running phase (the merge ended, one way or another).</summary>
    public void EndPhase()
    {
        if (_phase is null) return;
        metrics.PhaseDuration.WithLabels(method, _phase.Value.Wire()).Observe(_phaseClock.Elapsed.TotalSeconds);
        _span?.Dispose();
        _span = null;
        _phase = null;
    }
}
