using System.Diagnostics;
using AdaMerging.Domain.Diagnostics;
using AdaMerging.Domain.Jobs;

namespace AdaMerging.Domain.Merging;

/// <summary>What a running merge reports: its phase, the optimisation's step and objective, the time since it began.</summary>
public sealed record MergeProgress(MergePhase Phase, int Step, int TotalSteps, double? Objective, TimeSpan Elapsed);

/// <summary>
/// The phases of one merge run (<see cref="MergePhase"/>): each reported as it begins and timed, seconds added up per
/// phase for the report (keyed by the phase's wire name), and the resident memory each reached.
/// </summary>
public sealed class PhaseClock(Action<MergeProgress>? progress) : IDisposable
{
    private readonly Dictionary<string, double> _seconds = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly PhaseMemory _memory = new();
    private MergePhase? _phase;

    public IReadOnlyDictionary<string, double> Seconds => _seconds;

    /// <summary>The largest resident memory above the run's start, per phase.</summary>
    public IReadOnlyDictionary<string, long> PeakBytes => _memory.Peaks;

    public T Timed<T>(MergePhase phase, Func<T> work)
    {
        Begin(phase);
        var clock = Stopwatch.StartNew();
        try
        {
            return work();
        }
        finally
        {
            Add(phase, clock.Elapsed);
        }
    }

    public void Begin(MergePhase phase) => Begin(phase, report: true);

    private void Begin(MergePhase phase, bool report)
    {
        _phase = phase;
        _memory.Enter(phase.Wire());
        if (report) progress?.Invoke(new MergeProgress(phase, 0, 0, null, _clock.Elapsed));
    }

    public void Step(MergePhase phase, int step, int totalSteps, double objective)
    {
        if (phase != _phase) Begin(phase, report: false);
        progress?.Invoke(new MergeProgress(phase, step, totalSteps, objective, _clock.Elapsed));
    }

    public void Dispose() => _memory.Dispose();

    public void Add(MergePhase phase, TimeSpan elapsed) => _seconds[phase.Wire()] = _seconds.GetValueOrDefault(phase.Wire()) + elapsed.TotalSeconds;
}
