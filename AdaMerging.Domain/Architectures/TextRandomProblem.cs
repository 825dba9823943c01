using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Methods;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Tensors;
using AdaMerging.Domain.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Architectures;

/// <summary>
/// A text model (BERT-family encoder, GPT-2 decoder) with random weights (layer norms' scales near 1), K perturbed
/// copies as task vectors in the given dtype, a 10-class head (or a language model's output) and 4 × batch random token sequences per task of the
/// shape's length, as <see cref="Clip.RandomProblem"/> is for CLIP: what the benchmarks and the worker's device check time.
/// </summary>
public sealed class TextRandomProblem : IRandomProblem
{
    /// <param name="expected">Every tensor the model reads with its shape (its names' <c>Expected</c>).</param>
    /// <param name="isNormScale">Whether a tensor is a layer norm's scale (drawn near 1, not near 0).</param>
    /// <param name="head">Every task's head when the model is a language model (its output matrix among the weights); else each gets a random 10-class one.</param>
    public TextRandomProblem(IFeatureStages model, IEnumerable<(string Name, long[] Shape)> expected, Func<string, bool> isNormScale,
        int hidden, int vocabulary, int tokens, ModelMemory memory, int k, int batch, ScalarType dtype, ulong seed, Device? device = null,
        ITaskHead? head = null)
    {
        var shapes = expected.Select(s => new TensorInfo(s.Name, SafetensorsDType.F32, s.Shape)).ToList();
        ModelBytes = shapes.Sum(s => s.ByteLength);
        device ??= CPU;
        Vectors = RandomProblems.SeededVectors(shapes, k, seed, dtype, device, (name, t) => isNormScale(name) ? t.Plus(1) : t);
        Model = model;
        Memory = memory;
        using var g = new Generator(seed);
        Tasks = Enumerable.Range(0, k).Select(i => new AdaMergingTask($"t{i}",
            head ?? new ClassificationHead(RandomProblems.OnDevice(randn([10, hidden], generator: g).Times(0.1), device), null, false),
            (IExampleRows)new GeneratedTokenRows(batch * 4, tokens, vocabulary, seed * 100 + (ulong)i))).ToList();
    }

    public IFeatureStages Model { get; }

    public TaskVectors Vectors { get; }

    public IReadOnlyList<AdaMergingTask> Tasks { get; }

    public long ModelBytes { get; }

    public ModelMemory Memory { get; }

    public void Dispose() => RandomProblems.Release(Vectors, Tasks);
}

/// <summary>Random full-length token sequences, each row drawn from its own seeded generator when read (none held).</summary>
public sealed class GeneratedTokenRows(long count, int tokens, int vocabulary, ulong seed) : IExampleRows
{
    public long Count => count;

    public Tensor Read(long[] rows, Device device)
    {
        var texts = rows.Select(r =>
        {
            using var generator = new Generator(seed * 1_000_003UL + (ulong)r);
            using var ids = randint(vocabulary, [tokens], generator: generator);
            return ids.data<long>().Select(v => (int)v).ToArray();
        }).ToList();
        return TokenBatch.Pack(texts, 0, device);
    }

    public void Dispose() { }
}
