using AdaMerging.Domain.Tensors;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Merging.Streaming;

/// <summary>
/// The stored values of θ0 and the K task models for pieces merged in a known order (docs/performance.md, "Streamed
/// merges"), read ahead: while one piece is merged and written, the next one's K + 1 reads run, into the other of two
/// sets of buffers. Reading from disk and merging then overlap instead of taking turns. A piece asked for out of the
/// planned order is read when asked.
/// </summary>
public sealed class StoredPieceReader : IDisposable
{
    private static readonly ParallelOptions ReadOptions = new() { MaxDegreeOfParallelism = Environment.ProcessorCount };

    private readonly ITensorSource[] _models;
    private readonly IReadOnlyList<TensorPiece> _order;
    private readonly Dictionary<TensorPiece, int> _position = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<ScalarType, Tensor[][]> _buffers = [];
    private readonly CancellationToken _ct;
    private (int Position, int Set, Task Read)? _ahead;
    private int _nextSet;

    public StoredPieceReader(ITensorSource theta0, IReadOnlyList<ITensorSource> tasks, IReadOnlyList<TensorPiece> order, CancellationToken ct)
    {
        (_models, _order, _ct) = ([theta0, .. tasks], order, ct);
        for (int i = 0; i < order.Count; i++) _position[order[i]] = i;
        MostElements = order.Count == 0 ? 0 : order.Max(p => p.Elements);
    }

    /// <summary>The largest piece's elements: what each buffer, and the caller's output for a piece, holds.</summary>
    public long MostElements { get; }

    /// <summary>
    /// θ0's and each task's values of <paramref name="piece"/>, flat, as views of buffers that stay valid until the next
    /// call (the caller disposes the views); the next piece in the order is being read when this returns.
    /// </summary>
    public Tensor[] Read(TensorPiece piece)
    {
        _ct.ThrowIfCancellationRequested();
        int at = _position.GetValueOrDefault(piece, -1);
        int set;
        if (_ahead is { } ahead && ahead.Position == at && at >= 0)
        {
            ahead.Read.GetAwaiter().GetResult();
            set = ahead.Set;
            _ahead = null;
        }
        else
        {
            Wait();
            set = NextSet();
            ReadInto(piece, set);
        }
        if (at >= 0 && at + 1 < _order.Count)
        {
            int next = NextSet(), position = at + 1;
            _ahead = (position, next, Task.Run(() => ReadInto(_order[position], next), _ct));
        }
        return Views(piece, set);
    }

    private int NextSet() => _nextSet++ & 1;

    private void ReadInto(TensorPiece piece, int set)
    {
        var parts = Views(piece, set);
        try
        {
            // The K + 1 reads side by side: from the page cache a read is a copy the kernel makes on the reading thread.
            Parallel.For(0, _models.Length, ReadOptions, k => _models[k].ReadRowRangeInto(piece.Tensor, piece.FirstRow, piece.Rows, parts[k]));
        }
        finally
        {
            foreach (var p in parts) p.Dispose();
        }
    }

    private Tensor[] Views(TensorPiece piece, int set)
    {
        var dtype = _models[0].Find(piece.Tensor)!.DType.TorchType!.Value;
        Tensor[][] sets;
        lock (_buffers)
        {
            if (!_buffers.TryGetValue(dtype, out sets!))
                _buffers[dtype] = sets = [.. Enumerable.Range(0, 2).Select(_ => _models.Select(_ => empty(MostElements, dtype: dtype)).ToArray())];
        }
        return [.. sets[set].Select(b => b.narrow(0, 0, piece.Elements))];
    }

    /// <summary>The read ahead finished (or failed: its buffers are about to be reused or freed, its error is not this call's).</summary>
    private void Wait()
    {
        if (_ahead is not { } ahead) return;
        try
        {
            ahead.Read.Wait(CancellationToken.None);
        }
        catch (AggregateException)
        {
        }
        _ahead = null;
    }

    public void Dispose()
    {
        Wait();
        foreach (var b in _buffers.Values.SelectMany(s => s).SelectMany(s => s)) b.Dispose();
        _buffers.Clear();
    }
}
