using System.Diagnostics;
using System.Globalization;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace AdaMerging.Worker.Cli;

/// <summary>
/// `bench-step`: where an AdaMerging step's time goes, for a tiny CLIP and a ViT-B/32-shaped one with random weights,
/// against a plain forward+backward of the same images (an ordinary training step) measured in the same run, and
/// peak RSS against (K + 2) × the model's bytes.
/// </summary>
public static class StepBenchmark
{
    public static int Run(CommandOptions options)
    {
        int k = int.Parse(options.One("tasks", "2"), CultureInfo.InvariantCulture);
        int batch = int.Parse(options.One("batch", "4"), CultureInfo.InvariantCulture);
        int steps = int.Parse(options.One("steps", "5"), CultureInfo.InvariantCulture);
        set_num_threads(Environment.ProcessorCount);
        Console.WriteLine($"K = {k}, batch {batch} per task, {steps} measured steps after one warm-up, {get_num_threads()} threads, float32, CPU");
        Measure("tiny CLIP (hidden 32, 2 layers, 16 px)", new ClipVisionConfig(32, 64, 2, 4, 16, 4, 3, "quick_gelu", 1e-5, 24), k, batch, steps);
        Measure("ViT-B/32 shape (hidden 768, 12 layers, 224 px)", new ClipVisionConfig(), k, batch, steps);
        return 0;
    }

    private static void Measure(string label, ClipVisionConfig config, int k, int batch, int steps)
    {
        GC.Collect();
        long rssStart = ProcessMemory.Resident();
        var g = new Generator(11);
        var shapes = ClipVisionLayout.ExpectedShapes(config, withProjection: true).ToList();
        Dictionary<string, Tensor> Random(double scale) => shapes.ToDictionary(s => s.Name, s =>
        {
            using var scope = NewDisposeScope();
            return (randn(s.Shape, generator: g) * scale).MoveToOuterDisposeScope();
        });
        var theta0 = Random(0.02);
        long modelBytes = theta0.Values.Sum(t => t.numel() * 4);
        var tasks = Enumerable.Range(0, k).Select(_ => (AdaMerging.Domain.Tensors.ITensorSource)new AdaMerging.Domain.Tensors.InMemoryTensorSource(
            Random(0.001).ToDictionary(kv => kv.Key, kv => { using (kv.Value) return kv.Value + theta0[kv.Key]; }), ownsTensors: true)).ToList();
        using var vectors = TaskVectors.Load(new AdaMerging.Domain.Tensors.InMemoryTensorSource(theta0), tasks, [], ScalarType.Float32, CPU);
        foreach (var t in tasks) t.Dispose();
        var encoder = new ClipVisionEncoder(config);
        var heads = Enumerable.Range(0, k).Select(_ => new ClassificationHead(randn([10, config.ProjectionDim], generator: g), null, true)).ToList();
        var inputs = heads.Select((h, i) => new AdaMergingTask($"t{i}", h, randn([batch * 4, 3, config.ImageSize, config.ImageSize], generator: g))).ToList();
        var settings = new AdaMergingSettings { Steps = steps + 1, BatchSize = batch, Seed = 1 };
        using var run = new AdaMergingRun(encoder.Forward, new Dictionary<string, Tensor>(), vectors,
            LayerMap.Create(vectors.Names, "layer", "tensor"), inputs, settings);

        GC.Collect();
        long resident = ProcessMemory.Resident() - rssStart;
        ProcessMemory.ResetPeak();
        long rssBefore = ProcessMemory.Resident();
        run.TakeStep(); // warm-up
        var timings = Enumerable.Range(0, steps).Select(_ => { run.TakeStep(); return run.LastTimings!; }).ToList();
        long peak = ProcessMemory.Peak() - rssBefore;
        var plain = PlainStep(encoder, vectors, inputs, batch, steps);

        StepTimings Median() => new(Mid(timings.Select(t => t.Data)), Mid(timings.Select(t => t.Merge)), Mid(timings.Select(t => t.Forward)),
            Mid(timings.Select(t => t.Backward)), Mid(timings.Select(t => t.Optimizer)));
        var m = Median();
        var step = Mid(timings.Select(t => t.Total));
        Console.WriteLine($"{label}: {modelBytes / 1e6:F1} MB of parameters");
        Console.WriteLine($"  step (median of {steps}): {Ms(step)} = data {Ms(m.Data)} + merge {Ms(m.Merge)} + forward {Ms(m.Forward)} " +
            $"+ backward incl. ∂L/∂λ {Ms(m.Backward)} + Adam {Ms(m.Optimizer)}");
        Console.WriteLine($"  plain forward+backward of the same {k}×{batch} images (parameters as leaves): {Ms(plain)} → step / plain = {step / plain:F2}×");
        Console.WriteLine($"  resident before the steps (θ0, K task vectors, heads, images): +{resident / 1e6:F0} MB = {(double)resident / modelBytes:F2}× the model");
        Console.WriteLine($"  peak during the steps: +{peak / 1e6:F0} MB more; resident + peak = {(double)(resident + peak) / modelBytes:F2}× the model, " +
            $"against (K + 2) = {k + 2}× ({(k + 2) * modelBytes / 1e6:F0} MB)");
        heads.ForEach(h => h.Dispose());
        inputs.ForEach(i => i.AdaptationPixels.Dispose());
        foreach (var t in theta0.Values) t.Dispose();
    }

    /// <summary>An ordinary training step of the same model and images: forward through fixed weights, backward to them.</summary>
    private static TimeSpan PlainStep(ClipVisionEncoder encoder, TaskVectors vectors, List<AdaMergingTask> tasks, int batch, int steps)
    {
        var parameters = vectors.Combine((_, _) => tensor(0.3f)).ToDictionary(kv => kv.Key, kv => kv.Value.detach().requires_grad_(true));
        var times = new List<TimeSpan>();
        for (int s = 0; s <= steps; s++)
        {
            using var scope = NewDisposeScope();
            var clock = Stopwatch.StartNew();
            Tensor total = zeros(1);
            foreach (var t in tasks)
                total = total + AdaMergingRun.Entropy(t.Head.Logits(encoder.Forward(parameters, t.AdaptationPixels.narrow(0, 0, batch))));
            total.backward();
            foreach (var p in parameters.Values) p.grad?.zero_();
            if (s > 0) times.Add(clock.Elapsed);
        }
        foreach (var p in parameters.Values) p.Dispose();
        return Mid(times);
    }

    private static TimeSpan Mid(IEnumerable<TimeSpan> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    private static string Ms(TimeSpan t) => $"{t.TotalMilliseconds:F1} ms";
}
