using AdaMerging.Domain.Diagnostics;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Methods;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Architectures.ResNet;

/// <summary>
/// A ResNet with random weights (batch norms' scales near 1 and variances near 1), K perturbed copies as task vectors
/// in the given dtype, a 10-class head and 4 × batch random images per task at the shape's image size: what the
/// benchmarks and the worker's device check time, as <see cref="Clip.RandomProblem"/> is for CLIP.
/// </summary>
public sealed class ResNetRandomProblem : IRandomProblem
{
    public ResNetRandomProblem(ResNetConfig config, int imageSize, int k, int batch, ScalarType dtype, ulong seed = 11, Device? device = null)
    {
        var shapes = ResNetLayout.ExpectedShapes(config, ResNetNames.TorchVision)
            .Select(s => new TensorInfo(s.Name, SafetensorsDType.F32, s.Shape)).ToList();
        ModelBytes = shapes.Sum(s => s.ByteLength);
        device ??= CPU;
        Vectors = RandomProblems.SeededVectors(shapes, k, seed, dtype, device, InRange);
        Model = new ResNetModel(config, ResNetNames.TorchVision);
        Memory = ResNetMemory.Of(config, imageSize);
        using var g = new Generator(seed);
        Tasks = Enumerable.Range(0, k).Select(i => new AdaMergingTask($"t{i}",
            new ClassificationHead(RandomProblems.OnDevice(randn([10, config.FeatureSize], generator: g).Times(0.1), device), null, false),
            (Datasets.IExampleRows)new GeneratedImageRows(batch * 4, [config.NumChannels, imageSize, imageSize], seed * 100 + (ulong)i))).ToList();
    }

    public IFeatureStages Model { get; }

    public TaskVectors Vectors { get; }

    public IReadOnlyList<AdaMergingTask> Tasks { get; }

    public long ModelBytes { get; }

    public ModelMemory Memory { get; }

    public void Dispose() => RandomProblems.Release(Vectors, Tasks);

    /// <summary>Convolutions at He's scale for their fan-in would need the shape; 0.02 keeps them small, and a batch norm's scale and variance sit near 1.</summary>
    private static Tensor InRange(string name, Tensor t) =>
        name.EndsWith(".running_var", StringComparison.Ordinal) || (name.EndsWith(".weight", StringComparison.Ordinal) && t.dim() == 1) ? t.Plus(1) : t;

}
