using AdaMerging.Domain.Merging;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Methods.Streaming;

/// <summary>
/// TIES-merging streamed (docs/algorithm.md, "Streamed merges"): each task's trim threshold is the exact k-th smallest
/// |τk| over the whole model, found as <see cref="MagnitudeSelection"/> finds it in memory, its top 15 bits from one
/// pass's histograms and its low 16 bits from a second's; a third counts the elected signs for the majority; the
/// merging pass then runs <see cref="TiesCpu"/> on each stretch with those thresholds and that majority.
/// </summary>
public sealed class StreamedTies(double topK, TiesMerge merge, double lambda) : StreamedMerge
{
    private long _parameters, _elected;
    private long[][] _high = [], _low = [];
    private long[] _ranks = [], _before = [];
    private int[] _top = [];
    private float[] _thresholds = [];

    public override int Passes => 3;

    public override void BeginPass(int pass, int taskCount, long parameterCount)
    {
        _parameters = parameterCount;
        if (pass == 0) (_high, _low, _elected) = ([], [], 0);
    }

    public override void Observe(int pass, TaskVectors vectors)
    {
        if (pass == 2)
        {
            _elected += TiesCpu.ElectedSum(vectors, _thresholds);
            return;
        }
        if (_high.Length == 0) (_high, _low) = (NewArrays(vectors.TaskCount, 1 << 15), NewArrays(vectors.TaskCount, 1 << 16));
        for (int k = 0; k < vectors.TaskCount; k++)
        {
            using var row = vectors.TaskRow(k);
            if (pass == 0) MagnitudeSelection.Add(row, _high[k]);
            else if (_top[k] >= 0) MagnitudeSelection.Add(row, new long[1 << 15], _top[k], _low[k]);
        }
    }

    public override void EndPass(int pass)
    {
        if (pass == 0)
        {
            _ranks = [.. _high.Select(_ => Ties.TrimRank(_parameters, topK))];
            var bins = _high.Select((h, k) => _ranks[k] == 0 ? (Top: -1, Before: 0L) : MagnitudeSelection.TopBin(h, _ranks[k])).ToArray();
            (_top, _before) = ([.. bins.Select(b => b.Top)], [.. bins.Select(b => b.Before)]);
        }
        else if (pass == 1)
            _thresholds = [.. _top.Select((top, k) => top < 0 ? 0f : MagnitudeSelection.Value(top, _low[k], _ranks[k] - _before[k]))];
    }

    /// <summary>TIES-merging of the stretch with the whole model's thresholds and majority (elected sum ≥ 0: +1, as in memory).</summary>
    public override Dictionary<string, Tensor> Merge(TaskVectors vectors, CancellationToken ct)
    {
        using var merged = empty(vectors.ParameterCount, dtype: vectors.DType, device: vectors.Device);
        TiesCpu.Apply(vectors, _thresholds, merge, lambda, merged, _elected >= 0 ? 1f : -1f);
        return vectors.Views(merged);
    }

    private static long[][] NewArrays(int k, int length) => [.. Enumerable.Range(0, k).Select(_ => new long[length])];
}
