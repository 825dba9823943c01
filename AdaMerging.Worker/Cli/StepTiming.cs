using AdaMerging.Domain.Architectures;
using System.Diagnostics;
using System.Globalization;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Diagnostics;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Models;
using TorchSharp;
using AdaMerging.Domain.Methods;
using static TorchSharp.torch;

namespace AdaMerging.Worker.Cli;

/// <summary>
/// The time of one layer-wise AdaMerging step of a named size with random weights (an architecture's <see cref="IRandomProblems"/>) (K tasks, a batch per task) on a
/// device, after one warm-up step, and the memory the run holds: the process's peak RSS, and on a GPU the device memory
/// in use as nvidia-smi reports it (TorchSharp does not expose the caching allocator's counters).
/// </summary>
public static class StepTiming
{
    public static void Run(string name, Device device, string size, IRandomProblems problems, int k, int batch, int steps)
    {
        using var rss = new ProcessMemory.PeakSampler();
        using var gpu = device.type == DeviceType.CUDA ? GpuMemory.Start(device.index < 0 ? 0 : device.index) : null;
        using var problem = problems.Random(size, k, batch, ScalarType.Float32, device);
        using var run = new AdaMergingRun(problem.Model, new Dictionary<string, Tensor>(), problem.Vectors,
            LayerMap.Create(problem.Vectors.Names, Granularity.Layer, LayerUnit.Tensor), problem.Tasks,
            new AdaMergingSettings { Steps = steps + 1, BatchSize = batch, Seed = 1 });
        run.TakeStep();
        Synchronize(device);
        var times = new List<double>();
        for (int s = 0; s < steps; s++)
        {
            var clock = Stopwatch.StartNew();
            run.TakeStep();
            Synchronize(device);
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        var median = times[times.Count / 2];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  step timing on {name}: {size} ({problems.Describe(size)}), K = {k}, batch {batch}, float32: " +
            $"median {median:F1} ms over {steps} steps after a warm-up ({k * batch / (median / 1000):F1} images/s)"));
        rss.Dispose();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  memory: process peak RSS {rss.Peak / 1e9:F2} GB; model {problem.ModelBytes / 1e9:F3} GB in float32, θ0 + K task vectors {problem.Vectors.Bytes / 1e9:F3} GB"));
        if (gpu is not null) Console.WriteLine($"  {gpu.Summary()}");
    }

    /// <summary>Waits for queued GPU work so the clock measures it (a no-op on the CPU).</summary>
    private static void Synchronize(Device device)
    {
        if (device.type == DeviceType.CUDA) cuda.synchronize(device);
    }
}
