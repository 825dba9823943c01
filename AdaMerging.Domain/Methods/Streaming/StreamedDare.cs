using AdaMerging.Domain.Merging;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Methods.Streaming;

/// <summary>
/// DARE streamed (docs/algorithm.md, "Streamed merges"): in memory one generator draws the masks task by task, tensor
/// by tensor; here task k has its own generator, advanced past the k · N draws of the tasks before it at every pass's
/// start, so each stretch gets the in-memory merge's masks. Each pass draws them again (TIES's passes see the same
/// dropped vectors as its merge does).
/// </summary>
public sealed class StreamedDare(double dropRate, long seed, StreamedMerge then) : StreamedMerge
{
    /// <summary>Draws skipped at a time while a generator is advanced.</summary>
    private const long SkipBlock = 1L << 22;

    private Generator[] _generators = [];

    public override int Passes => then.Passes;

    public override bool CutsTensors => then.CutsTensors;

    public override void BeginPass(int pass, int taskCount, long parameterCount)
    {
        foreach (var g in _generators) g.Dispose();
        _generators = [.. Enumerable.Range(0, taskCount).Select(k => Advanced(k * parameterCount))];
        then.BeginPass(pass, taskCount, parameterCount);
    }

    public override TaskVectors Prepare(TaskVectors stretch) => Dare.Apply(stretch, dropRate, k => _generators[k]);

    public override void Observe(int pass, TaskVectors vectors) => then.Observe(pass, vectors);

    public override void EndPass(int pass) => then.EndPass(pass);

    public override Dictionary<string, Tensor> Merge(TaskVectors vectors, CancellationToken ct) => then.Merge(vectors, ct);

    /// <summary>A generator seeded as the in-memory merge's, past <paramref name="draws"/> float32 draws.</summary>
    private Generator Advanced(long draws)
    {
        var generator = new Generator((ulong)seed);
        for (long done = 0; done < draws; done += SkipBlock)
            using (rand(Math.Min(SkipBlock, draws - done), generator: generator)) { }
        return generator;
    }
}
