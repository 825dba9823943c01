using AdaMerging.Domain.Compute;

namespace AdaMerging.Domain.Diagnostics;

/// <summary>
/// The process's resident memory above what it held when a run began, sampled every 10 ms on its own thread, its
/// largest value kept per phase of the run: what a user sizes a machine by. Other runs in the same process at the
/// same time are counted too (a worker with several slots); docs/algorithm.md, "Memory", says so.
/// </summary>
public sealed class PhaseMemory : IDisposable
{
    private readonly Dictionary<string, long> _peaks = [];
    private readonly Lock _gate = new();
    private readonly Thread _thread;
    private readonly long _baseline = HostMemory.Current.Resident();
    private volatile bool _stop;
    private string? _phase;

    public PhaseMemory()
    {
        _thread = new Thread(() =>
        {
            while (!_stop)
            {
                Sample();
                Thread.Sleep(10);
            }
        }) { IsBackground = true, Name = "phase memory" };
        _thread.Start();
    }

    /// <summary>Peak bytes above the baseline per phase, in the order the phases began.</summary>
    public IReadOnlyDictionary<string, long> Peaks
    {
        get
        {
            Sample();
            lock (_gate) return new Dictionary<string, long>(_peaks);
        }
    }

    public void Enter(string phase)
    {
        Sample();   // what the phase before reached, up to now
        lock (_gate)
        {
            _phase = phase;
            _peaks.TryAdd(phase, 0);
        }
    }

    private void Sample()
    {
        long above = Math.Max(0, HostMemory.Current.Resident() - _baseline);
        lock (_gate)
            if (_phase is { } phase) _peaks[phase] = Math.Max(_peaks.GetValueOrDefault(phase), above);
    }

    public void Dispose()
    {
        _stop = true;
        _thread.Join();
    }
}
