using System.Diagnostics;
using AdaMerging.Domain.Diagnostics;

namespace AdaMerging.Domain.Merging;

/// <summary>What a running merge reports: its phase, the optimisation's step and objective, the time since it began.</summary>
public sealed record MergeProgress(string Phase, int Step, int TotalSteps, double? Objective, TimeSpan Elapsed);

/// <summary>
/// The phases of one merge run (load, merge, optimise, evaluate, write): each reported as it begins and timed,
/// seconds added up per phase for the report, and the resident memory each reached.
/// </summary>
public sealed class PhaseClock(Action<MergeProgress>? progress) : IDisposable
{
    private readonly Dictionary<string, double> _seconds = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly PhaseMemory _memory = new();
    private string? _phase;

    public IReadOnlyDictionary<string, double> Seconds => _seconds;

    /// <summary>The largest resident memory above the run's start, per phase.</summary>
    public IReadOnlyDictionary<string, long> PeakBytes => _memory.Peaks;

    public T Timed<T>(string phase, Func<T> work)
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

    public void Begin(string phase) => Begin(phase, report: true);

    private void Begin(string phase, bool report)
    {
        _phase = phase;
        _memory.Enter(phase);
        if (report) progress?.Invoke(new MergeProgress(phase, 0, 0, null, _clock.Elapsed));
    }

    public void Step(string phase, int step, int totalSteps, double objective)
    {
        if (phase != _phase) Begin(phase, report: false);
        progress?.Invoke(new MergeProgress(phase, step, totalSteps, objective, _clock.Elapsed));
    }

    public void Dispose() => _memory.Dispose();

    public void Add(string phase, TimeSpan elapsed) => _seconds[phase] = _seconds.GetValueOrDefault(phase) + elapsed.TotalSeconds;
}
