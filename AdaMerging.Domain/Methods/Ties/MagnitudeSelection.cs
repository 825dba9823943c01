using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Methods;

/// <summary>
/// The k-th smallest magnitude of float32 values in the CPU's memory, exactly as torch.kthvalue(|x|, k) gives it,
/// without |x| or kthvalue's copies: a radix selection on the magnitudes' bits (docs/algorithm.md, "TIES"). The bits of
/// a non-negative float order as the float does, so the value is found as its top 15 bits (one histogram over every
/// value), then its low 16 bits (a histogram of the values in that top bin). A strided sample says beforehand which
/// few top bins can hold the rank, and their low histograms are taken in the same pass: one read of the values, a
/// second only when the sample was wrong.
/// </summary>
public static class MagnitudeSelection
{
    private const int Block = 1 << 16;
    private const int MostBracketedBins = 16;

    public static float KthSmallest(Tensor values, long rank)
    {
        using var row = values.flatten();
        long n = row.numel();
        if (rank < 1 || rank > n) throw new ArgumentOutOfRangeException(nameof(rank), $"rank {rank} of {n} values");
        var (first, count) = Bracket(row, rank);
        var (high, lows) = Histograms(row, first, count);
        (int top, long before) = Bin(high, rank);
        var low = top >= first && top < first + count ? lows[top - first] : Histograms(row, top, 1).Low[0];
        (int bottom, _) = Bin(low, rank - before);
        return BitConverter.UInt32BitsToSingle(((uint)top << 16) | (uint)bottom);
    }

    /// <summary>The top bins between the sample's quantiles just below and above the rank's (none for small inputs).</summary>
    private static (int First, int Count) Bracket(Tensor row, long rank)
    {
        long n = row.numel();
        if (n < 4L * Block) return (0, 0);
        long stride = Math.Max(1, n / 250_000);
        using var strided = row[TensorIndex.Slice(0, null, stride)];
        using var sample = strided.contiguous();
        var bits = MemoryMarshal.Cast<byte, uint>(sample.bytes).ToArray();
        for (int i = 0; i < bits.Length; i++) bits[i] = (bits[i] & 0x7FFF_FFFF) >> 16;
        Array.Sort(bits);
        double q = (double)rank / n;
        int At(double f) => (int)bits[Math.Clamp((long)(f * bits.Length), 0, bits.Length - 1)];
        int first = At(q - 0.003), last = At(q + 0.003);
        return last - first + 1 <= MostBracketedBins ? (first, last - first + 1) : (0, 0);
    }

    /// <summary>
    /// Counts of the top 15 bits of every |x|, and of the low 16 bits of those whose top bits are in [first, first + count),
    /// per thread, then added.
    /// </summary>
    private static (long[] High, long[][] Low) Histograms(Tensor row, int first, int count)
    {
        var high = new long[1 << 15];
        var low = Enumerable.Range(0, count).Select(_ => new long[1 << 16]).ToArray();
        var gate = new object();
        long n = row.numel();
        Parallel.For(0, (n + Block - 1) / Block, TiesCpu.Options, () => (new long[1 << 15], Enumerable.Range(0, count).Select(_ => new long[1 << 16]).ToArray()), (b, _, local) =>
        {
            long start = b * Block;
            using var part = row.narrow(0, start, Math.Min(Block, n - start));
            var (localHigh, localLow) = local;
            foreach (var value in MemoryMarshal.Cast<byte, uint>(part.bytes))
            {
                uint magnitude = value & 0x7FFF_FFFF;
                int top = (int)(magnitude >> 16);
                localHigh[top]++;
                if ((uint)(top - first) < (uint)count) localLow[top - first][magnitude & 0xFFFF]++;
            }
            return local;
        }, local =>
        {
            lock (gate)
            {
                for (int i = 0; i < high.Length; i++) high[i] += local.Item1[i];
                for (int c = 0; c < count; c++)
                    for (int i = 0; i < 1 << 16; i++) low[c][i] += local.Item2[c][i];
            }
        });
        return (high, low);
    }

    /// <summary>
    /// Adds the counts of <paramref name="values"/>' magnitudes to a streamed selection's histograms: the top 15 bits
    /// to <paramref name="high"/>, and the low 16 bits of those in top bin <paramref name="top"/> to <paramref name="low"/>
    /// (when given): the first pass over a model's stretches finds the top bin, the second the low bits.
    /// </summary>
    public static void Add(Tensor values, long[] high, int top = -1, long[]? low = null)
    {
        using var row = values.flatten();
        var (h, l) = Histograms(row, Math.Max(top, 0), low is null ? 0 : 1);
        for (int i = 0; i < h.Length; i++) high[i] += h[i];
        if (low is not null)
            for (int i = 0; i < low.Length; i++) low[i] += l[0][i];
    }

    /// <summary>A streamed selection's answer from its histograms: the top bin holding the rank with the values below it, then the value.</summary>
    public static (int Top, long Before) TopBin(long[] high, long rank) => Bin(high, rank);

    public static float Value(int top, long[] low, long rankInBin) => BitConverter.UInt32BitsToSingle(((uint)top << 16) | (uint)Bin(low, rankInBin).Bin);

    /// <summary>The bin holding the <paramref name="rank"/>-th value and how many values lie in the bins below it.</summary>
    private static (int Bin, long Before) Bin(long[] histogram, long rank)
    {
        long before = 0;
        for (int i = 0; i < histogram.Length; i++)
        {
            if (before + histogram[i] >= rank) return (i, before);
            before += histogram[i];
        }
        throw new InvalidOperationException($"rank {rank} past the {before} values counted");
    }
}
