using System.Globalization;

namespace AdaMerging.Worker.Cli;

/// <summary>
/// A GPU's memory in use, polled from nvidia-smi every 200 ms while a check runs: in use before, the largest seen, and
/// the total. Says so when nvidia-smi is absent (a container without the NVIDIA utilities) rather than guessing.
/// </summary>
public sealed class GpuMemory : IDisposable
{
    private readonly int _index;
    private readonly Thread? _thread;
    private volatile bool _stop;
    private readonly (long Used, long Total)? _before;
    private long _peak;

    private GpuMemory(int index)
    {
        _index = index;
        _before = Query(index);
        if (_before is null) return;
        _peak = _before.Value.Used;
        _thread = new Thread(() =>
        {
            while (!_stop)
            {
                if (Query(_index) is { } now) _peak = Math.Max(_peak, now.Used);
                Thread.Sleep(200);
            }
        }) { IsBackground = true };
        _thread.Start();
    }

    public static GpuMemory Start(int index) => new(index);

    public string Summary()
    {
        Stop();
        return _before is not { } before
            ? $"device memory of GPU {_index}: nvidia-smi is not available here, so it is not reported"
            : string.Create(CultureInfo.InvariantCulture,
                $"device memory of GPU {_index} (nvidia-smi): {before.Used} MiB in use before, peak {_peak} MiB during the check (+{_peak - before.Used} MiB), of {before.Total} MiB");
    }

    public void Dispose() => Stop();

    private void Stop()
    {
        _stop = true;
        _thread?.Join();
    }

    private static (long Used, long Total)? Query(int index) => AdaMerging.Infrastructure.Runs.DeviceMemory.Gpu(index);
}
