using System.Diagnostics;
using System.Globalization;
using AdaMerging.Domain.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace AdaMerging.Infrastructure.Runs;

/// <summary>
/// How much memory a device has for a merge: the machine's (or its cgroup's) on the CPU, a GPU's total as nvidia-smi
/// reports it (TorchSharp exposes no CUDA memory query); null when it cannot be known.
/// </summary>
public static class DeviceMemory
{
    public static long? Total(Device device) => device.type == DeviceType.CPU
        ? ProcessMemory.MachineTotal()
        : Gpu(device.index < 0 ? 0 : device.index) is { } gpu ? gpu.Total * (1L << 20) : null;

    /// <summary>memory.used and memory.total of one GPU in MiB, or null when nvidia-smi cannot be run.</summary>
    public static (long Used, long Total)? Gpu(int index)
    {
        try
        {
            var start = new ProcessStartInfo("nvidia-smi", ["--query-gpu=memory.used,memory.total", "--format=csv,noheader,nounits", $"--id={index}"])
            { RedirectStandardOutput = true, RedirectStandardError = true };
            using var smi = Process.Start(start)!;
            var line = smi.StandardOutput.ReadToEnd().Trim();
            smi.WaitForExit();
            var parts = line.Split(',', StringSplitOptions.TrimEntries);
            return smi.ExitCode == 0 && parts.Length == 2
                ? (long.Parse(parts[0], CultureInfo.InvariantCulture), long.Parse(parts[1], CultureInfo.InvariantCulture))
                : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;   // not installed
        }
    }
}
