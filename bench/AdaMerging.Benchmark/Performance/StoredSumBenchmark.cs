using System.Globalization;
using AdaMerging.Domain.Methods.Streaming;
using TorchSharp;
using static TorchSharp.torch;

namespace AdaMerging.Benchmark.Performance;

/// <summary>
/// The streamed bfloat16 task-arithmetic kernel alone (docs/performance.md, "Streamed merges"): θ0 + c Σk (θk − θ0) over
/// values in memory, vectorised against the scalar loop in one run, as ns per element and GB of input per second.
///   bench-stored-sum [--elements 67108864] [--tasks 4] [--runs 5]
/// </summary>
public static class StoredSumBenchmark
{
    public static int Run(BenchOptions options)
    {
        long n = options.WholeNumber("elements", 1 << 26);
        int tasks = options.WholeNumber("tasks", 4), runs = options.WholeNumber("runs", 5);
        var g = new Generator(30);
        using var theta0 = randn([n], generator: g).to_type(ScalarType.BFloat16);
        var models = Enumerable.Range(0, tasks).Select(_ => randn([n], generator: g).to_type(ScalarType.BFloat16)).ToList();
        using var output = empty_like(theta0);
        double inputBytes = (tasks + 1) * n * 2.0;
        foreach (var vectorised in new[] { false, true, false, true })
        {
            var times = Enumerable.Range(0, runs + 1).Select(_ => Timing.Time(() => StoredWeightedSum.MergeInto(theta0, models, 0.3, output, vectorised)).TotalSeconds)
                .Skip(1).Order().ToList();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{(vectorised ? "vectorised" : "scalar    ")}: {times[times.Count / 2] / n * 1e9:F2} ns/element (runs {times[0] / n * 1e9:F2}–{times[^1] / n * 1e9:F2}), "
                + $"{inputBytes / times[times.Count / 2] / 1e9:F2} GB/s of input, {torch.get_num_threads()} threads"));
        }
        models.ForEach(m => m.Dispose());
        return 0;
    }
}
