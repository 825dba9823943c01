using AdaMerging.Domain.Architectures;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Methods;
using AdaMerging.Domain.Methods.Streaming;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Tensors;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Merging.Streaming;

/// <summary>
/// A data-free merge streamed into its folder (docs/algorithm.md, "Streamed merges"): the method's passes over the
/// stretches, then the model written in the base's order, each merged tensor in the base's dtype as its stretch is
/// merged (in float32, or float64 for a bfloat16 or float16 model where the method can, rounded once when written;
/// θ0 + c Σ τ over 16-bit values from the stored values) and everything else copied. At most one stretch's θ0, task
/// vectors and output are in memory at a time; on float32 models the bytes are the in-memory merge's.
/// </summary>
public sealed class StreamedMergeWriter : IDisposable
{
    private readonly ITensorSource _theta0;
    private readonly IReadOnlyList<ITensorSource> _tasks;
    private readonly StreamedMerge _merge;
    private readonly Queue<List<TensorPiece>> _pending;
    private readonly CancellationToken _ct;
    private readonly ScalarType _dtype;
    private readonly long _parameters;
    private readonly Dictionary<string, List<TensorPiece>> _stored;
    private readonly StoredPieceReader _storedReader;
    private readonly Dictionary<ScalarType, Tensor> _storedOutputs = [];
    private Dictionary<string, Tensor> _current = [];

    private StreamedMergeWriter(ITensorSource theta0, IReadOnlyList<ITensorSource> tasks, StreamedMerge merge, List<List<TensorPiece>> stretches,
        List<TensorPiece> stored, ScalarType dtype, CancellationToken ct)
    {
        (_theta0, _tasks, _merge, _dtype, _ct) = (theta0, tasks, merge, dtype, ct);
        _pending = new(stretches);
        Stretches = stretches;
        _stored = stored.GroupBy(p => p.Tensor).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        _storedReader = new StoredPieceReader(theta0, tasks, stored, ct);
        _parameters = stretches.Sum(s => s.Sum(p => p.Elements)) + stored.Sum(p => p.Elements);
    }

    public IReadOnlyList<List<TensorPiece>> Stretches { get; }

    /// <summary>Working memory of a streamed merge by default: θ0, the task vectors and the output of one stretch in float32.</summary>
    public const long DefaultWorkingBytes = 256L << 20;

    /// <summary>
    /// The method when a merge streams: data-free, nothing to run the model for (<paramref name="runsModel"/>: it
    /// evaluates, or its tasks bring data, which batch-norm statistics may be recomputed on), the base written in its
    /// own names (every layout but open_clip's); else null.
    /// </summary>
    public static DataFreeMethod? Applies(IMergeMethod method, bool runsModel, ModelFolder baseFolder)
    {
        if (method is not DataFreeMethod dataFree || runsModel) return null;
        using var view = baseFolder.View();
        return view is SameNames ? dataFree : null;
    }

    /// <summary>Elements a stretch holds at most, for a working budget in bytes: θ0, K task vectors and the output in float32 (half as many in float64).</summary>
    public static long StretchElements(long workingBytes, int taskCount, bool inFloat64 = false) =>
        Math.Max(1, workingBytes / ((inFloat64 ? sizeof(double) : sizeof(float)) * (taskCount + 2L)));

    /// <summary>A streamed merge of these inputs, planned: its stretches cut for the working memory, its compute dtype chosen.</summary>
    public static StreamedMergeWriter Open(ModelFolder baseFolder, IReadOnlyList<ITensorSource> tasks, IReadOnlyList<string> mergedNames,
        StreamedMerge merge, long workingBytes, CancellationToken ct = default)
    {
        var theta0 = baseFolder.Weights;
        // θ0 + c Σ τ over bfloat16 or float16 stored alike in every model: merged from the stored values (StoredWeightedSum).
        bool FromStored(string name) => merge.UniformCoefficient(tasks.Count) is not null && theta0.Find(name)!.DType.TorchType is { } t
            && StoredWeightedSum.Applies(t) && tasks.All(task => task.Find(name)!.DType == theta0.Find(name)!.DType);
        var computed = mergedNames.Where(n => !FromStored(n)).ToList();
        // float64 for a model stored narrower than float32, where the method can: the exact result rounded once when written.
        bool inFloat64 = merge.ExactInFloat64 && computed.Any(n => theta0.Find(n)!.DType.Size < sizeof(float));
        long elements = StretchElements(workingBytes, tasks.Count, inFloat64);
        // Stored pieces of half a stretch: read one ahead, two sets of K + 1 of them and an output hold what one set of a stretch did.
        var stored = Streaming.Stretches.Plan(theta0, [.. mergedNames.Where(FromStored)], Math.Max(1, elements / 2), cutTensors: true).SelectMany(s => s).ToList();
        var stretches = Streaming.Stretches.Plan(theta0, computed, elements, merge.CutsTensors);
        return new StreamedMergeWriter(theta0, tasks, merge, stretches, stored, inFloat64 ? ScalarType.Float64 : ScalarType.Float32, ct);
    }

    /// <summary>The passes over the stretches before the merging one (TIES's: thresholds, majority); none for most methods.</summary>
    public void RunPasses()
    {
        for (int pass = 0; pass < _merge.Passes; pass++)
        {
            _merge.BeginPass(pass, _tasks.Count, _parameters);
            foreach (var stretch in Stretches) Visit(stretch, vectors => _merge.Observe(pass, vectors));
            _merge.EndPass(pass);
        }
    }

    /// <summary>The merging pass: the model folder in the base's order, as <see cref="MergedModelWriter"/> writes and lists it.</summary>
    public IReadOnlyList<string> WriteFolder(string directory, ModelFolder baseFolder, long shardBytes)
    {
        using var view = baseFolder.View();
        if (view is not SameNames) throw new InvalidOperationException("a streamed merge writes the base's own names");
        _merge.BeginPass(_merge.Passes, _tasks.Count, _parameters);
        var pieces = Stretches.SelectMany(s => s).GroupBy(p => p.Tensor).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        double coefficient = _merge.UniformCoefficient(_tasks.Count) ?? 0;
        return MergedModelWriter.Write(directory, baseFolder, view, (writer, t) =>
        {
            var dtype = t.DType.TorchType!.Value;
            if (_stored.TryGetValue(t.Name, out var storedParts))
                Write(writer, t.Name, dtype, storedParts, p => FromStored(p, coefficient));
            else if (pieces.TryGetValue(t.Name, out var parts))
                Write(writer, t.Name, dtype, parts, p => Merged(p).to_type(dtype));
            else
                using (var copied = view.Read(t.Name)) writer.Write(t.Name, copied);
        }, shardBytes, _ct);
    }

    /// <summary>A merged tensor: whole, or its pieces' rows in turn (each disposed once written).</summary>
    private static void Write(ShardedSafetensorsWriter writer, string name, ScalarType dtype, List<TensorPiece> parts, Func<TensorPiece, Tensor> merged)
    {
        if (parts is [{ Whole: true } whole])
            using (var value = merged(whole)) writer.Write(name, value);
        else
            writer.WriteRows(name, dtype, parts.Select(merged));
    }

    /// <summary>A piece merged from the models' stored values (<see cref="StoredWeightedSum"/>), read ahead, into an output buffer kept from piece to piece.</summary>
    private Tensor FromStored(TensorPiece piece, double coefficient)
    {
        var parts = _storedReader.Read(piece);
        try
        {
            var dtype = parts[0].dtype;
            if (!_storedOutputs.TryGetValue(dtype, out var output))
                _storedOutputs[dtype] = output = empty(_storedReader.MostElements, dtype: dtype);
            using var flat = output.narrow(0, 0, piece.Elements);
            StoredWeightedSum.MergeInto(parts[0], parts[1..], coefficient, flat);
            return flat.view([.. piece.Shape]);   // a view: the caller disposes it, the buffer stays
        }
        finally
        {
            foreach (var p in parts) p.Dispose();
        }
    }

    /// <summary>A piece's merged values in the compute dtype (the stretch holding it merged when first asked for; the one before released).</summary>
    private Tensor Merged(TensorPiece piece)
    {
        while (!_current.ContainsKey(piece.Key))
        {
            Release();
            if (!_pending.TryDequeue(out var stretch)) throw new InvalidOperationException($"'{piece.Key}' is in no stretch left");
            Visit(stretch, vectors => _current = _merge.Merge(vectors, _ct));
        }
        return _current[piece.Key];
    }

    /// <summary>A stretch's task vectors as the method sees them, released after <paramref name="use"/>.</summary>
    private void Visit(List<TensorPiece> stretch, Action<TaskVectors> use)
    {
        _ct.ThrowIfCancellationRequested();
        using (var loaded = TaskVectors.LoadPieces(_theta0, _tasks, stretch, _dtype, _ct))
        {
            var prepared = _merge.Prepare(loaded);
            try
            {
                use(prepared);
            }
            finally
            {
                if (!ReferenceEquals(prepared, loaded)) prepared.Dispose();
            }
        }
        Compute.HostMemory.Current.Trim();   // the stretch's buffers go back to the system, not to the allocator's free lists
    }

    private void Release()
    {
        ModelParameters.Dispose(_current);
        _current = [];
    }

    public void Dispose()
    {
        Release();
        _storedReader.Dispose();
        foreach (var b in _storedOutputs.Values) b.Dispose();
    }
}
