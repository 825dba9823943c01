using System.Globalization;

namespace AdaMerging.Worker.Cli;

/// <summary>This process's resident and peak memory from /proc, for the benchmarks.</summary>
public static class ProcessMemory
{
    public static long Resident() => Status("VmRSS:");

    public static long Peak() => Status("VmHWM:");

    /// <summary>Linux resets the peak-RSS mark when 5 is written to clear_refs.</summary>
    public static void ResetPeak() => File.WriteAllText("/proc/self/clear_refs", "5");

    private static long Status(string field) =>
        long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith(field, StringComparison.Ordinal))
            .Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
}
