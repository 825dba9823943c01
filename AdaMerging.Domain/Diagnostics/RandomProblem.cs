using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Diagnostics;

/// <summary>
/// A CLIP ViT with random weights, K perturbed "fine-tuned" copies loaded as task vectors in the given dtype, a
/// 10-class head and 4 × batch random images per task: what the benchmarks time. The fine-tuned copies are generated
/// one tensor at a time as the task vectors are read, so setup never holds K whole models besides the vectors.
/// Everything is drawn on the CPU from seeded generators, so every device gets the same problem; the task vectors,
/// heads and images then live on <c>device</c>. Used by the benchmarks and by the worker's device check.
/// </summary>
public sealed class RandomProblem : IDisposable
{
    private readonly Dictionary<string, Tensor> _theta0;

    public RandomProblem(ClipVisionConfig config, int k, int batch, ScalarType dtype, ulong seed = 11, Device? device = null)
    {
        var g = new Generator(seed);
        _theta0 = ClipVisionLayout.ExpectedShapes(config, withProjection: true).ToDictionary(s => s.Name, s =>
        {
            using var scope = NewDisposeScope();
            return (randn(s.Shape, generator: g) * 0.02).MoveToOuterDisposeScope();
        }, StringComparer.Ordinal);
        ModelBytes = _theta0.Values.Sum(t => t.numel() * 4);
        using var base0 = new InMemoryTensorSource(_theta0);
        var tasks = Enumerable.Range(0, k).Select(i => (ITensorSource)new PerturbedSource(_theta0, seed + 1 + (ulong)i)).ToList();
        device ??= CPU;
        Vectors = TaskVectors.Load(base0, tasks, [], dtype, device);
        Encoder = new ClipVisionEncoder(config);
        Tasks = Enumerable.Range(0, k).Select(i => new AdaMergingTask($"t{i}",
            new ClassificationHead(OnDevice(randn([10, config.ProjectionDim], generator: g), device), null, true),
            OnDevice(randn([batch * 4, config.NumChannels, config.ImageSize, config.ImageSize], generator: g), device))).ToList();
    }

    private static Tensor OnDevice(Tensor t, Device device)
    {
        if (device.type == DeviceType.CPU) return t;   // drawn there already
        using (t) return t.to(device);
    }

    public ClipVisionEncoder Encoder { get; }

    public TaskVectors Vectors { get; }

    public List<AdaMergingTask> Tasks { get; }

    /// <summary>The encoder's parameters in float32.</summary>
    public long ModelBytes { get; }

    public void Dispose()
    {
        Vectors.Dispose();
        foreach (var t in Tasks)
        {
            t.Head.Dispose();
            t.AdaptationPixels.Dispose();
        }
        foreach (var t in _theta0.Values) t.Dispose();
    }

    /// <summary>θ0 + 0.001 · N(0, 1), drawn per tensor when read.</summary>
    private sealed class PerturbedSource(Dictionary<string, Tensor> theta0, ulong seed) : ITensorSource
    {
        private readonly InMemoryTensorSource _base = new(theta0);
        private readonly Generator _generator = new(seed);

        public IReadOnlyList<TensorInfo> Tensors => _base.Tensors;

        public TensorInfo? Find(string name) => _base.Find(name);

        public Tensor Read(string name, ScalarType? convertTo = null)
        {
            using var scope = NewDisposeScope();
            var t = theta0[name];
            var perturbed = t + 0.001 * randn(t.shape, generator: _generator);
            return (convertTo is { } d ? perturbed.to_type(d) : perturbed).MoveToOuterDisposeScope();
        }

        public void Dispose()
        {
            _base.Dispose();
            _generator.Dispose();
        }
    }
}
