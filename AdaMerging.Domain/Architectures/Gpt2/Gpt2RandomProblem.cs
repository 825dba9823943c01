using AdaMerging.Domain.Architectures.Bert;
using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Methods;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Architectures.Gpt2;

/// <summary>
/// A GPT-2 decoder with random weights (layer norms' scales near 1), K perturbed copies as task vectors in the given
/// dtype, a 10-class head and 4 × batch random token sequences per task of the shape's length, as
/// <see cref="BertRandomProblem"/> is for BERT: what the benchmarks and the worker's device check time.
/// </summary>
public sealed class Gpt2RandomProblem : IRandomProblem
{
    public Gpt2RandomProblem(Gpt2Config config, int tokens, int k, int batch, ScalarType dtype, ulong seed = 13, Device? device = null)
    {
        var names = new Gpt2Names("");
        var shapes = names.Expected(config).Select(s => new TensorInfo(s.Name, SafetensorsDType.F32, s.Shape)).ToList();
        ModelBytes = shapes.Sum(s => s.ByteLength);
        device ??= CPU;
        Vectors = RandomProblems.SeededVectors(shapes, k, seed, dtype, device, InRange);
        Model = new Gpt2Decoder(config, names);
        Memory = BertMemory.TextTransformer(config.NumLayers, config.HiddenSize, config.InnerSize, config.NumHeads, tokens, 0);
        using var g = new Generator(seed);
        Tasks = Enumerable.Range(0, k).Select(i => new AdaMergingTask($"t{i}",
            new ClassificationHead(RandomProblems.OnDevice(randn([10, config.HiddenSize], generator: g).Times(0.1), device), null, false),
            (IExampleRows)new GeneratedTokenRows(batch * 4, tokens, config.VocabSize, seed * 100 + (ulong)i))).ToList();
    }

    public IFeatureStages Model { get; }

    public TaskVectors Vectors { get; }

    public IReadOnlyList<AdaMergingTask> Tasks { get; }

    public long ModelBytes { get; }

    public ModelMemory Memory { get; }

    public void Dispose() => RandomProblems.Release(Vectors, Tasks);

    private static Tensor InRange(string name, Tensor t) => name.EndsWith("ln_1.weight", StringComparison.Ordinal)
        || name.EndsWith("ln_2.weight", StringComparison.Ordinal) || name.EndsWith("ln_f.weight", StringComparison.Ordinal) ? t.Plus(1) : t;
}
