using AdaMerging.Domain.Architectures;
using System.Diagnostics;
using System.Globalization;
using AdaMerging.Domain.Diagnostics;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Methods;
using static TorchSharp.torch;

namespace AdaMerging.Benchmark.Performance;

/// <summary>
/// `bench-memory`: for any registered size (CLIP ViTs, ResNets: <see cref="RandomProblems"/>), the resident memory of layer-wise AdaMerging steps, one child process per way of taking the
/// gradient (one graph over all tasks, task by task, task by task with checkpointing), so no allocator state carries
/// over (`--steps 0` takes a single step, for shapes whose steps take minutes): resident after setup against θ0 + K task vectors, the peak over the steps against the model, the step time,
/// and the service's estimate of the peak beside the measurement (docs/performance.md, "Memory").
/// </summary>
public static class MemoryBenchmark
{
    public sealed record Mode(string Name, GradientGraph Graph, bool Checkpointing);

    public static readonly Mode[] Modes =
    [
        new("whole-graph", GradientGraph.WholeGraph, false),
        new("task-by-task", GradientGraph.TaskByTask, false),
        new("checkpointed", GradientGraph.TaskByTask, true),
    ];

    public static int Run(BenchOptions options)
    {
        string size = options.Get("size", "vit-b-32"), precision = options.Get("precision", "float32");
        int k = options.WholeNumber("tasks", 8), batch = options.WholeNumber("batch", 16), steps = options.WholeNumber("steps", 2);
        var dtype = precision == "bfloat16" ? ScalarType.BFloat16 : ScalarType.Float32;
        var allocator = options.Get("allocator", "worker");
        var objective = options.Get("objective", "entropy");
        if (options.Get("mode", "") is { Length: > 0 } one)
        {
            // As the worker process runs (its Program.cs), unless asked for glibc's defaults.
            if (allocator == "worker") ProcessMemory.ReturnLargeFreesToTheSystem();
            set_num_threads(Environment.ProcessorCount);
            Measure(Modes.Single(m => m.Name == one), size, k, batch, steps, dtype,
                objective == "expert_kl" ? AdaMergingObjective.ExpertKl : AdaMergingObjective.Entropy);
            return 0;
        }
        var modes = options.Get("modes", string.Join(",", Modes.Select(m => m.Name))).Split(',');
        Console.WriteLine($"{size}, {precision} task vectors, K = {k}, batch {batch} per task, {steps} steps after a warm-up, " +
            $"{Environment.ProcessorCount} threads, CPU, allocator: {allocator}, objective {objective}; one process per mode");
        var results = new Dictionary<string, string[]>();
        foreach (var mode in modes)
            StepBenchmark.RunChild(["bench-memory", "--mode", mode, "--allocator", allocator, "--objective", objective, "--size", size, "--precision", precision, "--tasks", $"{k}", "--batch", $"{batch}", "--steps", $"{steps}"], line =>
            {
                if (!line.StartsWith("MEMORY ", StringComparison.Ordinal)) return false;
                results[mode] = line.Split(' ');
                return true;
            });
        if (results.TryGetValue("whole-graph", out var whole))
            foreach (var (mode, r) in results.Where(r => r.Key != "whole-graph"))
                Console.WriteLine($"  {mode}: peak {Ratio(whole[2], r[2])}× lower than one graph, step {Ratio(r[3], whole[3])}× its time");
        return 0;
    }

    private static string Ratio(string a, string b) =>
        (double.Parse(a, CultureInfo.InvariantCulture) / double.Parse(b, CultureInfo.InvariantCulture)).ToString("F2", CultureInfo.InvariantCulture);

    private static void Measure(Mode mode, string size, int k, int batch, int steps, ScalarType dtype, AdaMergingObjective objective)
    {
        GC.Collect();
        long start = ProcessMemory.Resident();
        using var problem = RandomProblems.Of(size).Random(size, k, batch, dtype, CPU);
        var settings = new AdaMergingSettings { Steps = steps + 1, BatchSize = batch, Seed = 1, Graph = mode.Graph, Checkpointing = mode.Checkpointing, Objective = objective };
        using var run = new AdaMergingRun(problem.Model, new Dictionary<string, Tensor>(), problem.Vectors,
            LayerMap.Create(problem.Vectors.Names, Granularity.Layer, LayerUnit.Tensor), problem.Tasks, settings);
        GC.Collect();
        long setup = ProcessMemory.Resident() - start;
        using var sampler = new ProcessMemory.PeakSampler();
        var warmUp = Timing.Time(() => run.TakeStep());
        var times = new List<TimeSpan>();
        for (int s = 0; s < steps; s++) times.Add(Timing.Time(() => run.TakeStep()));
        sampler.Dispose();
        long peak = sampler.Peak - start;
        var step = steps == 0 ? warmUp : Timing.Median(times);   // --steps 0: one step, its time with the warm-up's costs
        double model = problem.ModelBytes, vectors = problem.Vectors.Bytes;
        var estimate = MemoryEstimate.AdaMergingSteps(problem.Memory, problem.Vectors.ParameterCount, k, batch, dtype, mode.Checkpointing, mode.Graph,
            tokenScores: problem.Memory.TokenScores, expertKl: objective == AdaMergingObjective.ExpertKl);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{mode.Name}: resident after setup {setup / 1e6:F0} MB = {setup / vectors:F3}× θ0 + K task vectors ({vectors / 1e6:F0} MB); " +
            $"peak {peak / 1e6:F0} MB = {peak / model:F2}× the float32 model ({model / 1e6:F1} MB), (K + 3) × model = {(k + 3) * model / 1e6:F0} MB, " +
            $"one task's activations (estimated) {estimate.ActivationsPerTask / 1e6:F0} MB; estimated peak {estimate.Total / 1e6:F0} MB " +
            $"({(estimate.Total - peak) / (double)peak:+0.0%;-0.0%} of measured); step {step.TotalMilliseconds:F0} ms"));
        Console.WriteLine(FormattableString.Invariant($"MEMORY {mode.Name} {peak} {step.TotalMilliseconds} {setup} {estimate.Total}"));
    }

}
