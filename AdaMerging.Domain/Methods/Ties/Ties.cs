using TorchSharp;
using AdaMerging.Domain.Tensors;
using AdaMerging.Domain.Merging;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Methods;

/// <summary>Which implementation computes TIES: C# element by element where the vectors are float32 in the CPU's memory, else tensor operations; the same bits either way.</summary>
public enum TiesKernel
{
    Auto,
    Tensors,
}

/// <summary>How TIES combines the agreeing entries: their sum (the AdaMerging paper's baseline) or their mean (TIES's own).</summary>
public enum TiesMerge
{
    Sum,
    Mean,
}

/// <summary>
/// TIES processing (Yadav et al., 2023) as docs/algorithm.md, "TIES", states it: trim each τk to its top-k fraction by magnitude over the
/// whole model, elect a sign per entry (the majority sign where the sum is exactly 0), keep only agreeing entries.
/// </summary>
/// <remarks>
/// Only the trim threshold needs the whole model (one |τk| at a time); election and the disjoint step go tensor by
/// tensor, so TIES-merging holds one model-sized temporary at most besides its output, and AdaMerging++ writes the
/// processed vectors straight into their own [K, N] matrix.
/// </remarks>
public static class Ties
{
    /// <summary>The fraction of each task vector's entries kept by default (TIES's and AdaMerging's 20 %).</summary>
    public const double DefaultTopK = 0.2;

    /// <summary>τ'k for every task, over the same base (disposing the result frees only the processed vectors).</summary>
    public static TaskVectors Process(TaskVectors vectors, double topK, TiesKernel kernel = TiesKernel.Auto)
    {
        var packed = empty([vectors.TaskCount, vectors.ParameterCount], dtype: vectors.DType, device: vectors.Device);
        if (OnCpu(vectors, kernel))
        {
            TiesCpu.Process(vectors, Array.ConvertAll(Thresholds(vectors, topK, onCpu: true), t => (float)t), packed);
            return vectors.WithPacked(packed);
        }
        ForEachProcessed(vectors, topK, (i, processed) =>
        {
            using var slice = vectors.Slice(packed, i);
            slice.copy_(processed);
        });
        return vectors.WithPacked(packed);
    }

    /// <summary>TIES-merging: θ0 + λ · merge(τ').</summary>
    public static Dictionary<string, Tensor> Apply(TaskVectors vectors, double topK, TiesMerge merge, double lambda, TiesKernel kernel = TiesKernel.Auto)
    {
        using var merged = empty(vectors.ParameterCount, dtype: vectors.DType, device: vectors.Device);
        if (OnCpu(vectors, kernel))
        {
            TiesCpu.Apply(vectors, Array.ConvertAll(Thresholds(vectors, topK, onCpu: true), t => (float)t), merge, lambda, merged);
            return vectors.Views(merged);
        }
        ForEachProcessed(vectors, topK, (i, processed) =>
        {
            using var scope = NewDisposeScope();
            var combined = Merge(processed, merge);
            vectors.Slice(merged, i).copy_(vectors.BaseSlice(i).Plus(combined.Times(lambda)));
        });
        return vectors.Views(merged);
    }

    /// <summary>
    /// The 1-based rank, among |τk|'s n values from the smallest, of the trim threshold: the official code's
    /// topk_values_mask keeps |τ| ≥ the (n − ⌊n·k⌋)-th smallest, ⌊n·k⌋ + 1 entries when magnitudes are distinct
    /// (docs/algorithm.md, "TIES"); 0 when everything is kept.
    /// </summary>
    public static long TrimRank(long n, double topK)
    {
        if (topK is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(topK), "top-k must be in (0, 1]");
        long rank = n - (long)Math.Floor(n * topK);
        return rank <= 0 ? 0 : rank;
    }

    private static bool OnCpu(TaskVectors vectors, TiesKernel kernel) => kernel == TiesKernel.Auto && TiesCpu.Applies(vectors);

    /// <summary>
    /// Each task's trim threshold, ranked over all merged tensors together; exact either way: the radix selection
    /// where the CPU kernel runs, else the bracketed tensor selection (the GPU's path).
    /// </summary>
    private static double[] Thresholds(TaskVectors vectors, double topK, bool onCpu) => Enumerable.Range(0, vectors.TaskCount).Select(k =>
    {
        using var row = vectors.TaskRow(k);
        long rank = TrimRank(row.numel(), topK);
        return rank == 0 ? 0.0 : onCpu ? MagnitudeSelection.KthSmallest(row, rank) : KthSmallestMagnitude(row, rank);
    }).ToArray();

    /// <summary>merge over the tasks of processed [K, len], summing task by task in order.</summary>
    private static Tensor Merge(Tensor processed, TiesMerge merge)
    {
        var sum = SumOverTasks(processed);
        if (merge == TiesMerge.Sum) return sum;
        using var nonZero = processed.ne(RootedScalars.Zero).to_type(sum.dtype);
        using var count = SumOverTasks(nonZero);
        using var atLeastOne = count.clamp_min(RootedScalars.One);
        using var _ = sum;
        return sum / atLeastOne;
    }

    /// <summary>
    /// Calls <paramref name="use"/> with τ' of each merged tensor as [K, len]. Trim thresholds come from the whole
    /// model; the majority sign (for entries whose elected sum is exactly 0) needs one pass over all tensors first.
    /// </summary>
    private static void ForEachProcessed(TaskVectors vectors, double topK, Action<int, Tensor> use)
    {
        using var _ = no_grad();
        using var thresholds = tensor(Thresholds(vectors, topK, onCpu: false),
            device: vectors.Device).to_type(vectors.DType).unsqueeze(1);
        Tensor Trimmed(int i)
        {
            using var tau = vectors.TaskSlice(i);
            using var keep = tau.abs().ge(thresholds);
            return tau * keep;
        }
        double elected = 0;
        for (int i = 0; i < vectors.Names.Count; i++)
        {
            using var scope = NewDisposeScope();
            elected += SumOverTasks(Trimmed(i)).sign().sum().AsDouble();
        }
        double majority = elected >= 0 ? 1.0 : -1.0;
        for (int i = 0; i < vectors.Names.Count; i++)
        {
            using var scope = NewDisposeScope();
            var trimmed = Trimmed(i);
            var gamma = SumOverTasks(trimmed).sign();
            gamma.masked_fill_(gamma.eq(RootedScalars.Zero), RootedScalars.Of(majority));
            use(i, trimmed * trimmed.sign().eq(gamma.unsqueeze(0)));
        }
    }

    private const long Chunk = 1L << 22;

    /// <summary>
    /// Exactly torch.kthvalue(|values|, rank) (1-based) without |values| or kthvalue's copy and int64 index (4 × the
    /// values): a strided sample brackets the rank's magnitude; one pass in chunks of 4 M counts the magnitudes below
    /// the bracket and keeps those inside it (about 2 % of them), which are ranked. Falls back to kthvalue when the
    /// sample misses (docs/algorithm.md, "TIES").
    /// </summary>
    public static double KthSmallestMagnitude(Tensor values, long rank)
    {
        using var scope = NewDisposeScope();
        var flat = values.flatten();
        long n = flat.numel();
        if (n > 4 * Chunk)
        {
            long stride = n / 1_000_000;
            var sample = flat[TensorIndex.Slice(0, null, stride)].abs();
            long m = sample.numel();
            double q = (double)rank / n;
            long LowRank(double f) => Math.Clamp((long)Math.Floor(f * m), 1, m);
            var lo = sample.kthvalue(LowRank(q - 0.01), 0, false).values.AsDouble();
            var hi = sample.kthvalue(Math.Clamp(LowRank(q + 0.01) + 1, 1, m), 0, false).values.AsDouble();
            long below = 0;
            var inside = new List<Tensor>();
            for (long start = 0; start < n; start += Chunk)
            {
                using var chunkScope = NewDisposeScope();
                var magnitude = flat.narrow(0, start, Math.Min(Chunk, n - start)).abs();
                using var low = lo.ToScalar();   // held through the calls (RootedScalars says why)
                using var high = hi.ToScalar();
                below += magnitude.lt(low).count_nonzero().item<long>();
                inside.Add(magnitude.masked_select(magnitude.ge(low).logical_and_(magnitude.le(high))).MoveToOuterDisposeScope());
            }
            var bracket = cat(inside);
            if (below < rank && rank <= below + bracket.numel())
                return bracket.kthvalue(rank - below, 0, false).values.AsDouble();
        }
        return flat.abs().kthvalue(rank, 0, false).values.AsDouble();
    }

    /// <summary>Σk over rows of [K, len], added in task order (the Σk of docs/algorithm.md, and reproducible to the bit).</summary>
    private static Tensor SumOverTasks(Tensor perTask)
    {
        var sum = perTask[0].clone();
        for (int k = 1; k < perTask.shape[0]; k++)
        {
            using var row = perTask[k];
            sum.PlusInPlace(row);
        }
        return sum;
    }
}
