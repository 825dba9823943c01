using AdaMerging.Domain.Architectures;
using AdaMerging.Domain.Architectures.Clip;
using AdaMerging.Domain.Diagnostics;
using System.Diagnostics;
using System.Globalization;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Tensors;
using TorchSharp;
using AdaMerging.Domain.Methods;
using static TorchSharp.torch;

namespace AdaMerging.Benchmark.Performance;

/// <summary>
/// `bench-step`: where an AdaMerging step's time goes, for any registered size with random weights (CLIP ViTs,
/// ResNets: <see cref="RandomProblems"/>), against what the same run
/// measures as the bound: a plain forward+backward of the same images (interleaved with the steps, so both see the
/// same machine), the analytic matmul FLOPs against a GEMM of the model's own MLP shape in the same dtype, and peak
/// RSS against (K + 2) × the model's float32 bytes.
/// </summary>
public static class StepBenchmark
{
    public static int Run(BenchOptions options)
    {
        int k = options.WholeNumber("tasks", 8), batch = options.WholeNumber("batch", 16);
        var sizes = options.Get("sizes", "tiny,small,vit-b-32").Split(',');
        var precisions = options.Get("precision", "float32,bfloat16").Split(',');
        if (options.Get("memory-steps", "0") is var m && m != "0")
        {
            set_num_threads(Environment.ProcessorCount);
            MemoryOverSteps(options.Get("memory-size", "small"), k, batch, int.Parse(m, CultureInfo.InvariantCulture));
            return 0;
        }
        if (sizes.Length == 1 && precisions.Length == 1)
        {
            set_num_threads(Environment.ProcessorCount);
            var size = sizes[0];
            int steps = options.WholeNumber("steps", size == "vit-b-32" ? 2 : size == "small" ? 10 : 20);
            var result = Measure(size, k, batch, steps, precisions[0] == "bfloat16" ? ScalarType.BFloat16 : ScalarType.Float32,
                options.Get("objective", "entropy") == "expert_kl" ? AdaMergingObjective.ExpertKl : AdaMergingObjective.Entropy);
            Console.WriteLine(FormattableString.Invariant($"RESULT {result.Step.TotalMilliseconds} {result.VectorBytes}"));
            return 0;
        }
        // One process per measurement: peak RSS and allocator state must not carry over from the one before.
        Console.WriteLine($"K = {k}, batch {batch} per task, {Environment.ProcessorCount} threads, CPU; medians over the measured steps, after one warm-up");
        foreach (var size in sizes)
        {
            var results = precisions.Select(p => Child(options, size, p)).ToList();
            if (results.Count == 2 && results.All(r => r is not null))
                Console.WriteLine($"  {size}: bf16 AdaMerging step {results[0]!.Step / results[1]!.Step:F2}× as fast as float32; " +
                    $"bf16 task vectors {(double)results[1]!.VectorBytes / results[0]!.VectorBytes:F2}× float32's memory");
        }
        return 0;
    }

    private static Result? Child(BenchOptions options, string size, string precision)
    {
        List<string> args = ["bench-step", "--sizes", size, "--precision", precision, "--tasks", options.Get("tasks", "8"), "--batch", options.Get("batch", "16")];
        if (options.Has("steps")) args.AddRange(["--steps", options.Get("steps", "")]);
        if (options.Has("objective")) args.AddRange(["--objective", options.Get("objective", "")]);
        Result? result = null;
        RunChild(args, line =>
        {
            if (!line.StartsWith("RESULT ", StringComparison.Ordinal)) return false;
            var f = line.Split(' ');
            result = new Result(TimeSpan.FromMilliseconds(double.Parse(f[1], CultureInfo.InvariantCulture)), long.Parse(f[2], CultureInfo.InvariantCulture));
            return true;
        });
        return result;
    }

    /// <summary>Runs this program again with <paramref name="args"/>, echoing its output (lines <paramref name="consume"/> takes are not echoed).</summary>
    public static int RunChild(IReadOnlyList<string> args, Func<string, bool>? consume = null)
    {
        var self = Environment.GetCommandLineArgs()[0];
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true };
        // Under `dotnet X.dll` the host needs the dll again; the apphost (bin/…/AdaMerging.Benchmark) is the program itself.
        bool underDotnet = Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet";
        if (underDotnet && self.EndsWith(".dll", StringComparison.Ordinal)) start.ArgumentList.Add(self);
        foreach (var a in args) start.ArgumentList.Add(a);
        using var child = Process.Start(start)!;
        while (child.StandardOutput.ReadLine() is { } line)
            if (consume?.Invoke(line) != true) Console.WriteLine(line);
        child.WaitForExit();
        return child.ExitCode;
    }

    private sealed record Result(TimeSpan Step, long VectorBytes);

    private static Result Measure(string label, int k, int batch, int steps, ScalarType dtype, AdaMergingObjective objective)
    {
        GC.Collect();
        long rssStart = ProcessMemory.Resident();
        using var problem = RandomProblems.Of(label).Random(label, k, batch, dtype, CPU);
        var settings = new AdaMergingSettings { Steps = steps + 1, BatchSize = batch, Seed = 1, Objective = objective };
        using var run = new AdaMergingRun(problem.Model, new Dictionary<string, Tensor>(), problem.Vectors,
            LayerMap.Create(problem.Vectors.Names, Granularity.Layer, LayerUnit.Tensor), problem.Tasks, settings);
        using var plain = new PlainStep(problem, batch);

        GC.Collect();
        long resident = ProcessMemory.Resident() - rssStart;
        using var sampler = new ProcessMemory.PeakSampler();
        run.TakeStep();
        plain.Take();
        var timings = new List<StepTimings>();
        var plainTimes = new List<TimeSpan>();
        for (int s = 0; s < steps; s++)
        {
            run.TakeStep();
            timings.Add(run.LastTimings!);
            plainTimes.Add(plain.Take());
        }
        sampler.Dispose();
        long peak = sampler.Peak - rssStart;

        var step = Timing.Median(timings.Select(t => t.Total));
        var plainStep = Timing.Median(plainTimes);
        Console.WriteLine($"{label} ({RandomProblems.Of(label).Describe(label)}), {dtype}: {problem.ModelBytes / 1e6:F1} MB of float32 parameters, {steps} measured steps");
        Console.WriteLine($"  step {Ms(step)} = data {Ms(Timing.Median(timings.Select(t => t.Data)))} + merge {Ms(Timing.Median(timings.Select(t => t.Merge)))} " +
            $"+ forward {Ms(Timing.Median(timings.Select(t => t.Forward)))} + backward {Ms(Timing.Median(timings.Select(t => t.Backward)))} " +
            $"+ λ gradient {Ms(Timing.Median(timings.Select(t => t.LambdaGradient)))} + Adam {Ms(Timing.Median(timings.Select(t => t.Optimizer)))}"
            + (objective == AdaMergingObjective.ExpertKl ? $" + experts {Ms(Timing.Median(timings.Select(t => t.Experts)))} (objective expert_kl)" : ""));
        Console.WriteLine($"  plain forward+backward of the same {k}×{batch} images (weights as leaves, one graph over the tasks): {Ms(plainStep)} → step / plain = {step / plainStep:F3}×");
        // What AdaMerging adds to its own forward and backward passes, whatever the plain step's graph costs.
        var own = Timing.Median(timings.Select(t => t.Forward + t.Backward));
        var added = Timing.Median(timings.Select(t => t.Merge + t.LambdaGradient + t.Optimizer + t.Data));
        Console.WriteLine($"  merge + λ gradient + Adam + data = {Ms(added)}: step without the experts / its own forward+backward = {(own + added) / own:F3}×");
        if (problem is RandomProblem { Encoder.Config: var config }) Efficiency(config, k, batch, dtype, step, plainStep);
        Console.WriteLine($"  resident after setup {resident / 1e6:F0} MB (θ0 + K task vectors = {problem.Vectors.Bytes / 1e6:F0} MB); " +
            $"peak of these AdaMerging and plain steps together {peak / 1e6:F0} MB (AdaMerging's own: bench-memory)");
        return new Result(step, problem.Vectors.Bytes);
    }

    /// <summary>A ViT's step against the analytic matmul FLOPs and a GEMM of its MLP's shape in the same dtype.</summary>
    private static void Efficiency(ClipVisionConfig config, int k, int batch, ScalarType dtype, TimeSpan step, TimeSpan plainStep)
    {
        double flops = 3 * ForwardFlops(config) * k * batch;
        double gemm = GemmRate(config, k * batch, dtype);
        Console.WriteLine($"  {flops / 1e9:F1} GFLOP of matmuls per step (3 × forward) → {flops / step.TotalSeconds / 1e9:F1} GFLOP/s; " +
            $"GEMM of the MLP's shape [{k * batch * Tokens(config)}×{config.HiddenSize}]·[{config.HiddenSize}×{config.IntermediateSize}] {gemm / 1e9:F1} GFLOP/s " +
            $"→ step at {100 * flops / step.TotalSeconds / gemm:F1} % of GEMM (plain step {100 * flops / plainStep.TotalSeconds / gemm:F1} %)");
    }

    /// <summary>RSS and live tensors after every 50 of <paramref name="steps"/> steps: memory must stay flat.</summary>
    private static void MemoryOverSteps(string size, int k, int batch, int steps)
    {
        using var problem = RandomProblems.Of(size).Random(size, k, batch, ScalarType.Float32, CPU);
        var settings = new AdaMergingSettings { Steps = steps, BatchSize = batch, Seed = 1 };
        using var run = new AdaMergingRun(problem.Model, new Dictionary<string, Tensor>(), problem.Vectors,
            LayerMap.Create(problem.Vectors.Names, Granularity.Layer, LayerUnit.Tensor), problem.Tasks, settings);
        Console.WriteLine($"memory over {steps} steps ({RandomProblems.Of(size).Describe(size)}, K = {k}, batch {batch}):");
        long first = 0;
        run.Run(p =>
        {
            if (p.Step % 50 != 0 && p.Step != 10) return;
            long rss = ProcessMemory.Resident();
            if (p.Step == 10) first = rss;
            Console.WriteLine($"  step {p.Step,4}: RSS {rss / 1e6:F1} MB ({(rss - first) / 1e6:+0.0;-0.0} MB since step 10), " +
                $"live tensors {DisposeScopeManager.Statistics.ThreadTotalLiveCount}");
        });
    }

    /// <summary>Matmul FLOPs of one image's forward pass: patch embedding, per block q/k/v/out, attention and MLP, projection.</summary>
    public static double ForwardFlops(ClipVisionConfig c)
    {
        double t = Tokens(c), d = c.HiddenSize, patches = t - 1;
        double block = 2 * t * d * d * 4 + 2 * 2 * t * t * d + 2 * 2 * t * d * c.IntermediateSize;
        return 2 * patches * c.NumChannels * c.PatchSize * c.PatchSize * d + c.NumHiddenLayers * block + 2 * d * c.ProjectionDim;
    }

    private static int Tokens(ClipVisionConfig c) => (c.ImageSize / c.PatchSize) * (c.ImageSize / c.PatchSize) + 1;

    /// <summary>FLOP/s of [M, D]·[D, I], the model's largest matmul, in the given dtype: median of 5 after a warm-up.</summary>
    private static double GemmRate(ClipVisionConfig c, int images, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        long m = (long)images * Tokens(c);
        var a = randn([m, c.HiddenSize]).to_type(dtype);
        var b = randn([c.HiddenSize, c.IntermediateSize]).to_type(dtype);
        a.mm(b).Dispose();
        var times = Enumerable.Range(0, 5).Select(_ =>
        {
            var clock = Stopwatch.StartNew();
            a.mm(b).Dispose();
            return clock.Elapsed;
        });
        return 2.0 * m * c.HiddenSize * c.IntermediateSize / Timing.Median(times).TotalSeconds;
    }


    private static string Ms(TimeSpan t) => $"{t.TotalMilliseconds:F1} ms";

    /// <summary>An ordinary training step of the same model and images: forward through leaf weights, backward to them.</summary>
    private sealed class PlainStep : IDisposable
    {
        private readonly IRandomProblem _problem;
        private readonly Dictionary<string, Tensor> _weights;
        private readonly List<Tensor> _images;

        public PlainStep(IRandomProblem problem, int batch)
        {
            _problem = problem;
            _weights = problem.Vectors.Combine((_, _) => tensor(0.3f)).ToDictionary(kv => kv.Key, kv => kv.Value.detach().requires_grad_(true));
            _images = problem.Tasks.Select(t => AdaMerging.Domain.Models.ModelInput.InComputeType(t.Adaptation.ReadRange(0, batch, problem.Vectors.Device), problem.Vectors.DType)).ToList();
        }

        public TimeSpan Take()
        {
            using var scope = NewDisposeScope();
            var clock = Stopwatch.StartNew();
            Tensor total = zeros(1);
            for (int k = 0; k < _images.Count; k++)
                total = total.Plus(Objectives.Entropy(_problem.Tasks[k].Head.LogProbabilities(_problem.Model.Bind(_weights), _problem.Model.Features(_weights, _images[k]), _images[k])).to_type(ScalarType.Float32));
            foreach (var w in _weights.Values) w.grad?.zero_();
            total.backward();
            return clock.Elapsed;
        }

        public void Dispose()
        {
            foreach (var t in _weights.Values.Concat(_images)) t.Dispose();
        }
    }
}
