using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Diagnostics;
using AdaMerging.Domain.Heads;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Tensors;
using TorchSharp;
using AdaMerging.Domain.Methods;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Architectures.Clip;

/// <summary>
/// A CLIP ViT with random weights, K perturbed "fine-tuned" copies loaded as task vectors in the given dtype, a
/// 10-class head and 4 × batch random images per task (drawn when read): what the benchmarks time. The fine-tuned copies are generated
/// one tensor at a time as the task vectors are read, so setup never holds K whole models besides the vectors.
/// Everything is drawn on the CPU from seeded generators, so every device gets the same problem; the task vectors,
/// heads and images then live on <c>device</c>. Used by the benchmarks and by the worker's device check.
/// </summary>
public sealed class RandomProblem : IRandomProblem
{
    public RandomProblem(ClipVisionConfig config, int k, int batch, ScalarType dtype, ulong seed = 11, Device? device = null)
    {
        var shapes = ClipVisionLayout.ExpectedShapes(config, withProjection: true)
            .Select(s => new TensorInfo(s.Name, SafetensorsDType.F32, s.Shape)).ToList();
        ModelBytes = shapes.Sum(s => s.ByteLength);
        using var base0 = new SeededSource(shapes, seed, null);
        var tasks = Enumerable.Range(0, k).Select(i => (ITensorSource)new SeededSource(shapes, seed, seed + 1 + (ulong)i)).ToList();
        device ??= CPU;
        Vectors = TaskVectors.Load(base0, tasks, [], dtype, device);
        tasks.ForEach(t => t.Dispose());
        Encoder = new ClipVisionEncoder(config);
        using var g = new Generator(seed);
        Tasks = Enumerable.Range(0, k).Select(i => new AdaMergingTask($"t{i}",
            new ClassificationHead(OnDevice(randn([10, config.ProjectionDim], generator: g), device), null, true),
            (IExampleRows)new GeneratedImageRows(batch * 4, [config.NumChannels, config.ImageSize, config.ImageSize], seed * 100 + (ulong)i))).ToList();
    }

    private static Tensor OnDevice(Tensor t, Device device)
    {
        if (device.type == DeviceType.CPU) return t;   // drawn there already
        using (t) return t.to(device);
    }

    public ClipVisionEncoder Encoder { get; }

    IFeatureStages IRandomProblem.Model => Encoder;

    IReadOnlyList<AdaMergingTask> IRandomProblem.Tasks => Tasks;

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
            t.Adaptation.Dispose();
        }
    }

    /// <summary>
    /// θ0 = 0.02 · N(0, 1) per tensor from a generator seeded by the tensor's position, and with a perturbation seed
    /// a fine-tuned model θ0 + 0.001 · N(0, 1) (that generator drawn in the order tensors are read): no model is held.
    /// </summary>
    private sealed class SeededSource(IReadOnlyList<TensorInfo> shapes, ulong seed, ulong? perturbation) : ITensorSource
    {
        private readonly Generator? _perturbation = perturbation is { } p ? new Generator(p) : null;
        private readonly Dictionary<string, int> _index = shapes.Select((s, i) => (s.Name, i)).ToDictionary(x => x.Name, x => x.i, StringComparer.Ordinal);

        public IReadOnlyList<TensorInfo> Tensors => shapes;

        public TensorInfo? Find(string name) => _index.TryGetValue(name, out var i) ? shapes[i] : null;

        public Tensor Read(string name, ScalarType? convertTo = null)
        {
            using var scope = NewDisposeScope();
            var index = _index[name];
            using var g = new Generator(seed * 7919UL + (ulong)index);
            var shape = shapes[index].Shape.ToArray();
            var t = randn(shape, generator: g) * 0.02;
            if (_perturbation is not null) t = t + 0.001 * randn(shape, generator: _perturbation);
            return (convertTo is { } d ? t.to_type(d) : t).MoveToOuterDisposeScope();
        }

        public void Dispose() => _perturbation?.Dispose();
    }
}
