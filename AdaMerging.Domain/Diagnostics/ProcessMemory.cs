using AdaMerging.Domain.Compute;
using System.Globalization;

namespace AdaMerging.Domain.Diagnostics;

/// <summary>This process's resident and peak memory from /proc, and glibc's allocator: what the hosts give the engine (<see cref="Glibc"/>) and the benchmarks read.</summary>
public static class ProcessMemory
{
    /// <summary>The engine's <see cref="IHostMemory"/> on Linux with glibc: RSS from /proc, malloc_trim.</summary>
    public static IHostMemory Glibc { get; } = new GlibcMemory();

    private sealed class GlibcMemory : IHostMemory
    {
        public long Resident() => ProcessMemory.Resident();

        public void Trim() => ProcessMemory.Trim();
    }

    public static long Resident() => Status("VmRSS:");

    public static long Peak() => Status("VmHWM:");

    /// <summary>The machine's (or container's cgroup's, when smaller) memory in bytes.</summary>
    public static long MachineTotal()
    {
        long total = long.Parse(File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal))
            .Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        const string cgroup = "/sys/fs/cgroup/memory.max";
        return File.Exists(cgroup) && long.TryParse(File.ReadAllText(cgroup).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var limit)
            ? Math.Min(total, limit) : total;
    }

    /// <summary>
    /// Polls RSS every 5 ms on its own thread until disposed and keeps the largest value: a peak that does not depend on
    /// the kernel honouring clear_refs.
    /// </summary>
    public sealed class PeakSampler : IDisposable
    {
        private readonly Thread _thread;
        private volatile bool _stop;

        public PeakSampler()
        {
            Peak = Resident();
            _thread = new Thread(() =>
            {
                while (!_stop)
                {
                    Peak = Math.Max(Peak, Resident());
                    Thread.Sleep(5);
                }
            }) { IsBackground = true };
            _thread.Start();
        }

        public long Peak { get; private set; }

        public void Dispose()
        {
            _stop = true;
            _thread.Join();
            Peak = Math.Max(Peak, Resident());
        }
    }

    /// <summary>
    /// Makes glibc map every allocation of 1 MiB or more on its own and unmap it when freed (M_MMAP_THRESHOLD), so
    /// activations freed task after task go back to the system instead of fragmenting the heap: AdaMerging's peak on
    /// ViT-B/32 falls by ~0.4 GB for ~10 % more step time (docs/performance.md, "Memory"). An operator's own
    /// MALLOC_MMAP_THRESHOLD_ wins. Returns whether it was applied.
    /// </summary>
    public static bool ReturnLargeFreesToTheSystem()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null) return false;
        const int mmapThreshold = -3;   // M_MMAP_THRESHOLD in malloc.h
        return MallOpt(mmapThreshold, 1 << 20) == 1;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "mallopt")]
    private static extern int MallOpt(int parameter, int value);

    /// <summary>Hands memory that glibc keeps after frees back to the system, so that RSS counts live data.</summary>
    public static bool Trim() => MallocTrim(0) == 1;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);

    /// <summary>Linux resets the peak-RSS mark when 5 is written to clear_refs.</summary>
    public static void ResetPeak() => File.WriteAllText("/proc/self/clear_refs", "5");

    private static long Status(string field) =>
        long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith(field, StringComparison.Ordinal))
            .Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
}
