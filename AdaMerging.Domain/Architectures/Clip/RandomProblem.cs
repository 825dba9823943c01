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
        device ??= CPU;
        Vectors = RandomProblems.SeededVectors(shapes, k, seed, dtype, device);
        Encoder = new ClipVisionEncoder(config);
        Memory = ClipMemory.Of(config);
        using var g = new Generator(seed);
        Tasks = Enumerable.Range(0, k).Select(i => new AdaMergingTask($"t{i}",
            new ClassificationHead(RandomProblems.OnDevice(randn([10, config.ProjectionDim], generator: g), device), null, true),
            (IExampleRows)new GeneratedImageRows(batch * 4, [config.NumChannels, config.ImageSize, config.ImageSize], seed * 100 + (ulong)i))).ToList();
    }


    public ClipVisionEncoder Encoder { get; }

    IFeatureStages IRandomProblem.Model => Encoder;

    IReadOnlyList<AdaMergingTask> IRandomProblem.Tasks => Tasks;

    public TaskVectors Vectors { get; }

    public List<AdaMergingTask> Tasks { get; }

    /// <summary>The encoder's parameters in float32.</summary>
    public long ModelBytes { get; }

    public ModelMemory Memory { get; }

    public void Dispose() => RandomProblems.Release(Vectors, Tasks);
}
