using TorchSharp;

namespace AdaMerging.Domain.Compute;

/// <summary>Chooses where tensors are computed: CUDA when this build and machine have it, else the CPU.</summary>
public static class TorchDevice
{
    public static torch.Device Choose(string preference = "auto") => preference.ToUpperInvariant() switch
    {
        "CPU" => torch.CPU,
        "CUDA" => torch.cuda.is_available()
            ? torch.CUDA
            : throw new InvalidOperationException("CUDA was asked for, but this build or machine has no CUDA device"),
        "AUTO" => torch.cuda.is_available() ? torch.CUDA : torch.CPU,
        // cpu:N names a CPU slot of its own (a CPU host given several merge slots); the work is on the CPU all the same.
        _ when preference.StartsWith("cpu:", StringComparison.OrdinalIgnoreCase)
            && int.TryParse(preference.AsSpan(4), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _) => torch.CPU,
        _ when preference.StartsWith("cuda:", StringComparison.OrdinalIgnoreCase)
            && int.TryParse(preference.AsSpan(5), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index) =>
            index < CudaDeviceCount()
                ? torch.device(DeviceType.CUDA, index)
                : throw new InvalidOperationException($"{preference} was asked for, but this machine has {CudaDeviceCount()} CUDA device(s)"),
        _ => throw new ArgumentException($"unknown device '{preference}': use auto, cpu, cpu:N, cuda or cuda:N", nameof(preference)),
    };

    /// <summary>Every device this machine offers merges: each GPU as cuda:N, or the CPU alone when there is none.</summary>
    public static IReadOnlyList<string> Visible() =>
        CudaDeviceCount() is var n and > 0 ? [.. Enumerable.Range(0, n).Select(i => $"cuda:{i}")] : ["cpu"];

    /// <summary>GPUs visible to torch; 0 on a CPU build.</summary>
    public static int CudaDeviceCount() => torch.cuda.is_available() ? torch.cuda.device_count() : 0;
}
