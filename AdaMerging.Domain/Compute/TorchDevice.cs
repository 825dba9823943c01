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
        _ => throw new ArgumentException($"unknown device '{preference}': use auto, cpu or cuda", nameof(preference)),
    };

    /// <summary>GPUs visible to torch; 0 on a CPU build.</summary>
    public static int CudaDeviceCount() => torch.cuda.is_available() ? torch.cuda.device_count() : 0;
}
