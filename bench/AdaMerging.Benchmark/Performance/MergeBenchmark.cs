using AdaMerging.Domain.Architectures.Clip;
using AdaMerging.Domain.Diagnostics;
using System.Diagnostics;
using System.Globalization;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Methods;
using static TorchSharp.torch;

namespace AdaMerging.Benchmark.Performance;

/// <summary>
/// `bench-merge`: task arithmetic, TIES (the CPU kernel and the tensor path) and DARE on a ViT-L/14-shaped model (1.2 GB in float32) with K task vectors in
/// memory, each against a memory copy of the model measured in the same run, with each method's peak RSS.
/// </summary>
public static class MergeBenchmark
{
    public static readonly ClipVisionConfig VitL14 = ModelShapes.Named("vit-l-14");

    private static readonly string[] Methods = ["ta", "ties", "ties-tensors", "dare"];

    public static int Run(BenchOptions options)
    {
        int k = int.Parse(options.Get("tasks", "4"), CultureInfo.InvariantCulture);
        var method = options.Get("method", "all");
        if (method == "all")
        {
            // One process per method: peak RSS and allocator state must not carry over from the one before.
            foreach (var m in Methods)
                if (StepBenchmark.RunChild(["bench-merge", "--method", m, "--tasks", k.ToString(CultureInfo.InvariantCulture)]) != 0) return 1;
            Console.WriteLine($"(a merge must read θ0 and K task vectors and write the model: at least (K + 2) / 2 = {(k + 2) / 2.0:F1}× a copy's traffic)");
            return 0;
        }
        if (!Methods.Contains(method)) throw new ArgumentException($"method '{method}' is not one of {string.Join(", ", Methods)}");
        set_num_threads(Environment.ProcessorCount);
        using var problem = new RandomProblem(VitL14, k, 1, ScalarType.Float32);
        var vectors = problem.Vectors;
        double gb = problem.ModelBytes / 1e9;
        var copy = Timing.MedianAfterWarmUp(3, () =>
        {
            using var source = ones(vectors.ParameterCount);
            using var target = empty_like(source);
            return Timing.Time(() => target.copy_(source));
        });
        Console.WriteLine($"ViT-L/14 shape ({gb:F2} GB in float32), K = {k} task vectors in memory ({vectors.Bytes / 1e9:F2} GB with θ0), " +
            $"{get_num_threads()} threads; memory copy of the model {copy.TotalMilliseconds:F0} ms = {gb / copy.TotalSeconds:F2} GB/s");
        switch (method)
        {
            case "ta":
                Report("task arithmetic (λ = 0.3)", gb, copy, () => vectors.Combine((_, _) => tensor(0.3f)));
                break;
            case "ties":
                Report("TIES (top-k 0.2, sum, λ = 0.3)", gb, copy, () => Ties.Apply(vectors, 0.2, TiesMerge.Sum, 0.3));
                break;
            case "ties-tensors":
                Report("TIES by tensor operations (the GPU's path)", gb, copy, () => Ties.Apply(vectors, 0.2, TiesMerge.Sum, 0.3, TiesKernel.Tensors));
                break;
            default:
                Report("DARE (drop 0.9, then task arithmetic)", gb, copy, () =>
                {
                    using var dropped = Dare.Apply(vectors, 0.9, 1);
                    return dropped.Combine((_, _) => tensor(0.3f));
                });
                break;
        }
        return 0;
    }

    private static void Report(string method, double gb, TimeSpan copy, Func<Dictionary<string, Tensor>> merge)
    {
        GC.Collect();
        _ = ProcessMemory.Trim();
        long before = ProcessMemory.Resident();
        var sampler = new ProcessMemory.PeakSampler();
        var clock = Stopwatch.StartNew();
        var merged = merge();
        var elapsed = clock.Elapsed;
        sampler.Dispose();
        long peak = sampler.Peak - before;
        foreach (var t in merged.Values) t.Dispose();
        Console.WriteLine($"  {method}: {elapsed.TotalMilliseconds:F0} ms = {gb / elapsed.TotalSeconds:F2} GB of model/s = {elapsed / copy:F1}× the copy; " +
            $"peak +{peak / 1e9:F2} GB = {peak / 1e9 / gb:F1}× the model");
    }
}
