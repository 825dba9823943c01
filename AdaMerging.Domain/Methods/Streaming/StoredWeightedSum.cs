using System.Buffers;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Methods.Streaming;

/// <summary>
/// θ0 + c · Σk (θk − θ0) over values stored as bfloat16 or float16, element by element in C# (docs/algorithm.md,
/// "Streamed merges"): each value widened to float64 exactly, the sum taken in float64 in that order, and the result
/// rounded once to the stored type — the exact result rounded once wherever float64's own rounding does not move it
/// across a tie. One read of the K + 1 inputs and one write, in the stored width: what task arithmetic and weight
/// averaging of a language model cost when streamed.
/// </summary>
public static class StoredWeightedSum
{
    private const int Block = 1 << 13;

    public static bool Applies(ScalarType stored) => stored is ScalarType.BFloat16 or ScalarType.Float16;

    /// <summary>The merged values in the stored dtype, from θ0 and the K task models' values of the same shape and dtype.</summary>
    public static Tensor Merge(Tensor theta0, IReadOnlyList<Tensor> tasks, double coefficient, bool vectorised = true)
    {
        var output = empty_like(theta0);
        MergeInto(theta0, tasks, coefficient, output, vectorised);
        return output;
    }

    /// <summary>As <see cref="Merge"/>, into <paramref name="output"/> (contiguous, of θ0's element count and dtype).</summary>
    /// <param name="vectorised">bfloat16 through <see cref="BrainVectors"/> where the CPU has 256-bit vectors (the same bits); false: the scalar loop alone.</param>
    public static void MergeInto(Tensor theta0, IReadOnlyList<Tensor> tasks, double coefficient, Tensor output, bool vectorised = true)
    {
        var dtype = theta0.dtype;
        if (!Applies(dtype) || tasks.Append(output).Any(t => t.dtype != dtype || t.numel() != theta0.numel()))
            throw new ArgumentException("θ0, every task model and the output must be the same bfloat16 or float16 values");
        long n = theta0.numel();
        bool brain = dtype == ScalarType.BFloat16, vectors = brain && vectorised && BrainVectors.Applies;
        using var baseFlat = theta0.flatten();
        using var outFlat = output.flatten();
        var taskFlats = tasks.Select(t => t.flatten()).ToArray();
        try
        {
            // A few stretches per thread, each through one set of tensor views (a view costs microseconds), in blocks small
            // enough that a block of every input and its sums stay in the core's cache.
            int threads = TiesCpu.Options.MaxDegreeOfParallelism;
            long stretch = Math.Max(Block, (n / (4L * threads) + Block - 1) / Block * Block);
            Parallel.For(0, (n + stretch - 1) / stretch, TiesCpu.Options, s =>
            {
                long start = s * stretch;
                int length = (int)Math.Min(stretch, n - start);
                using var baseStretch = baseFlat.narrow(0, start, length);
                using var outStretch = outFlat.narrow(0, start, length);
                var taskStretches = taskFlats.Select(t => t.narrow(0, start, length)).ToArray();
                double[] baseArray = ArrayPool<double>.Shared.Rent(Block), sumArray = ArrayPool<double>.Shared.Rent(Block);
                try
                {
                    for (int offset = 0; offset < length; offset += Block)
                        MergeBlock(baseStretch, taskStretches, outStretch, offset, Math.Min(Block, length - offset), coefficient, brain, vectors, baseArray, sumArray);
                }
                finally
                {
                    foreach (var t in taskStretches) t.Dispose();
                    ArrayPool<double>.Shared.Return(baseArray);
                    ArrayPool<double>.Shared.Return(sumArray);
                }
            });
        }
        finally
        {
            foreach (var t in taskFlats) t.Dispose();
        }
    }

    /// <summary>One block: θ0 widened, the task differences summed task by task (in task order, as the reference adds them), the result narrowed.</summary>
    private static void MergeBlock(Tensor theta0, Tensor[] tasks, Tensor output, int offset, int length, double coefficient, bool brain, bool vectors,
        double[] baseArray, double[] sumArray)
    {
        var widen = brain ? BrainWidths.Value : HalfWidths.Value;
        Span<double> b0 = baseArray.AsSpan(0, length), sum = sumArray.AsSpan(0, length);
        ReadOnlySpan<ushort> stored = MemoryMarshal.Cast<byte, ushort>(theta0.bytes).Slice(offset, length);
        for (int i = vectors ? BrainVectors.Widen(stored, b0) : 0; i < length; i++) b0[i] = widen[stored[i]];
        sum.Clear();
        foreach (var task in tasks)
        {
            stored = MemoryMarshal.Cast<byte, ushort>(task.bytes).Slice(offset, length);
            for (int i = vectors ? BrainVectors.AddDifference(stored, b0, sum) : 0; i < length; i++) sum[i] += widen[stored[i]] - b0[i];
        }
        Span<ushort> result = MemoryMarshal.Cast<byte, ushort>(output.bytes).Slice(offset, length);
        for (int i = vectors ? BrainVectors.Narrow(b0, sum, coefficient, result, NarrowToBrain) : 0; i < length; i++)
            result[i] = brain ? NarrowToBrain(b0[i] + sum[i] * coefficient) : BitConverter.HalfToUInt16Bits((Half)(b0[i] + sum[i] * coefficient));
    }

    // Every 16-bit pattern's value as float64, looked up: converting float to double in the loop serialised it (a
    // conversion writes part of a register and waits on its last value), 9 ns an element where a load is under 1.
    private static readonly Lazy<double[]> BrainWidths = new(() => [.. Enumerable.Range(0, 1 << 16).Select(b => (double)BitConverter.Int32BitsToSingle(b << 16))]);
    private static readonly Lazy<double[]> HalfWidths = new(() => [.. Enumerable.Range(0, 1 << 16).Select(b => (double)BitConverter.UInt16BitsToHalf((ushort)b))]);

    /// <summary>
    /// x rounded once to the nearest bfloat16, ties to even, on its bits: the top 7 of the 52 mantissa bits kept and
    /// rounded by the other 45 (a carry moves into the exponent, as it should); outside bfloat16's normal range, by
    /// way of float32 rounded to odd.
    /// </summary>
    private static ushort NarrowToBrain(double x)
    {
        long bits = BitConverter.DoubleToInt64Bits(x);
        long exponent = ((bits >> 52) & 0x7FF) - 1023 + 127;
        if (exponent is >= 1 and <= 254)
        {
            long mantissa = bits & ((1L << 52) - 1), kept = (exponent << 7) | (mantissa >> 45), rest = mantissa & ((1L << 45) - 1);
            kept += (rest + (1L << 44) - 1 + (kept & 1)) >> 45;   // up past half, or at half to even: without a branch to mispredict
            return (ushort)(((bits >> 48) & 0x8000) | kept);
        }
        return NarrowThroughFloat(x);
    }

    /// <summary>Through float32 rounded to odd: 24 bits of which the last is sticky, so rounding that to bfloat16's 8 is rounding x once.</summary>
    private static ushort NarrowThroughFloat(double x)
    {
        float f = (float)x;
        int bits = BitConverter.SingleToInt32Bits(f);
        if (double.IsFinite(x) && f != x)
        {
            if (Math.Abs((double)f) > Math.Abs(x)) bits--;   // rounded away from zero: truncate instead
            bits |= 1;
        }
        if (float.IsNaN(f)) return (ushort)((bits >> 16) | 0x40);
        return (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
    }
}
