using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Methods;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Architectures;

/// <summary>
/// An architecture that makes random problems of named sizes: a model with random weights, K perturbed copies as task
/// vectors, heads and images. What the benchmarks and a new host's device check (the worker's check-device) time.
/// </summary>
public interface IRandomProblems
{
    /// <summary>The sizes it knows, by name.</summary>
    IReadOnlyList<string> Sizes { get; }

    /// <summary>The shape of a size in words, as the timing reports it.</summary>
    string Describe(string size);

    IRandomProblem Random(string size, int k, int batch, ScalarType dtype, Device device);
}

/// <summary>A random problem: the model, θ0 with the task vectors, each task's head and images, and the model's size.</summary>
public interface IRandomProblem : IDisposable
{
    IFeatureStages Model { get; }

    TaskVectors Vectors { get; }

    IReadOnlyList<AdaMergingTask> Tasks { get; }

    /// <summary>The float32 model's bytes.</summary>
    long ModelBytes { get; }

    /// <summary>What one image costs the model at the problem's image size, for the memory estimate (bench-memory's).</summary>
    ModelMemory Memory { get; }
}

public static class RandomProblems
{
    /// <summary>
    /// Seeded random weights of these shapes as θ0 and K perturbed copies (<see cref="SeededWeights"/>: drawn a
    /// tensor at a time as they are read, so setup holds no whole model besides the vectors), loaded as task vectors.
    /// </summary>
    public static TaskVectors SeededVectors(IReadOnlyList<Tensors.TensorInfo> shapes, int k, ulong seed, ScalarType dtype, Device device,
        Func<string, Tensor, Tensor>? adjust = null)
    {
        using var base0 = new SeededWeights(shapes, seed, null, adjust);
        var tasks = Enumerable.Range(0, k).Select(i => (Tensors.ITensorSource)new SeededWeights(shapes, seed, seed + 1 + (ulong)i, adjust)).ToList();
        try
        {
            return TaskVectors.Load(base0, tasks, [], dtype, device);
        }
        finally
        {
            tasks.ForEach(t => t.Dispose());
        }
    }

    /// <summary>Frees a problem's task vectors and each task's head and images.</summary>
    public static void Release(TaskVectors vectors, IEnumerable<AdaMergingTask> tasks)
    {
        vectors.Dispose();
        foreach (var t in tasks)
        {
            t.Head.Dispose();
            t.Adaptation.Dispose();
        }
    }

    /// <summary>A tensor drawn on the CPU moved to <paramref name="device"/> (the CPU one freed), or itself on the CPU.</summary>
    public static Tensor OnDevice(Tensor t, Device device)
    {
        if (device.type == TorchSharp.DeviceType.CPU) return t;
        using (t) return t.to(device);
    }

    /// <summary>The architecture that knows a size, or an error naming every size known.</summary>
    public static IRandomProblems Of(string size) =>
        ModelArchitectures.All.OfType<IRandomProblems>().FirstOrDefault(a => a.Sizes.Contains(size))
        ?? throw new ArgumentException($"size '{size}' is not one of {string.Join(", ", ModelArchitectures.All.OfType<IRandomProblems>().SelectMany(a => a.Sizes))}");
}
