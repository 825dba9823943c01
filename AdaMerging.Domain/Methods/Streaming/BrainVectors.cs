using System.Runtime.Intrinsics;

namespace AdaMerging.Domain.Methods.Streaming;

/// <summary>
/// <see cref="StoredWeightedSum"/>'s bfloat16 passes sixteen values at a time with 256-bit vectors (docs/performance.md,
/// "Streamed merges"): a bfloat16 is the top half of a float32, so widening is a shift and float32 → float64 is exact;
/// the sums are the scalar loop's, in the same order; narrowing rounds on float64's bits as
/// <see cref="StoredWeightedSum"/>'s scalar rounding does, and hands a group of sixteen holding anything outside
/// bfloat16's normal range (zero, subnormals, infinities, NaN) to that scalar rounding. The same bits as the scalar
/// loop; each method returns how many leading values it did, a multiple of sixteen, the rest left to the scalar loop.
/// </summary>
public static class BrainVectors
{
    private const int Width = 16;

    public static bool Applies => Vector256.IsHardwareAccelerated;

    /// <summary>destination[i] = the bfloat16 source[i] as float64.</summary>
    public static int Widen(ReadOnlySpan<ushort> source, Span<double> destination)
    {
        int i = 0;
        for (; i + Width <= source.Length; i += Width)
        {
            var (d0, d1, d2, d3) = Wide(Vector256.Create(source.Slice(i, Width)));
            d0.CopyTo(destination.Slice(i));
            d1.CopyTo(destination.Slice(i + 4));
            d2.CopyTo(destination.Slice(i + 8));
            d3.CopyTo(destination.Slice(i + 12));
        }
        return i;
    }

    /// <summary>sum[i] += (the bfloat16 task[i] as float64) − b0[i].</summary>
    public static int AddDifference(ReadOnlySpan<ushort> task, ReadOnlySpan<double> b0, Span<double> sum)
    {
        int i = 0;
        for (; i + Width <= task.Length; i += Width)
        {
            var (d0, d1, d2, d3) = Wide(Vector256.Create(task.Slice(i, Width)));
            Accumulate(d0, b0, sum, i);
            Accumulate(d1, b0, sum, i + 4);
            Accumulate(d2, b0, sum, i + 8);
            Accumulate(d3, b0, sum, i + 12);
        }
        return i;
    }

    /// <summary>result[i] = b0[i] + sum[i] · c rounded once to bfloat16; <paramref name="scalar"/> rounds a group the vectors do not.</summary>
    public static int Narrow(ReadOnlySpan<double> b0, ReadOnlySpan<double> sum, double coefficient, Span<ushort> result, Func<double, ushort> scalar)
    {
        var c = Vector256.Create(coefficient);
        int i = 0;
        for (; i + Width <= result.Length; i += Width)
        {
            var x0 = Vector256.Create(b0.Slice(i)) + Vector256.Create(sum.Slice(i)) * c;
            var x1 = Vector256.Create(b0.Slice(i + 4)) + Vector256.Create(sum.Slice(i + 4)) * c;
            var x2 = Vector256.Create(b0.Slice(i + 8)) + Vector256.Create(sum.Slice(i + 8)) * c;
            var x3 = Vector256.Create(b0.Slice(i + 12)) + Vector256.Create(sum.Slice(i + 12)) * c;
            var (r0, ok0) = Round(x0);
            var (r1, ok1) = Round(x1);
            var (r2, ok2) = Round(x2);
            var (r3, ok3) = Round(x3);
            if ((ok0 & ok1 & ok2 & ok3) == Vector256<long>.AllBitsSet)
            {
                Vector256.Narrow(Vector256.Narrow(r0, r1), Vector256.Narrow(r2, r3)).CopyTo(result.Slice(i));
                continue;
            }
            for (int j = i; j < i + Width; j++) result[j] = scalar(b0[j] + sum[j] * coefficient);
        }
        return i;
    }

    /// <summary>Sixteen bfloat16 bit patterns as four vectors of their float64 values.</summary>
    private static (Vector256<double>, Vector256<double>, Vector256<double>, Vector256<double>) Wide(Vector256<ushort> bits)
    {
        var (low, high) = Vector256.Widen(bits);
        var (d0, d1) = Vector256.Widen(Vector256.ShiftLeft(low, 16).AsSingle());
        var (d2, d3) = Vector256.Widen(Vector256.ShiftLeft(high, 16).AsSingle());
        return (d0, d1, d2, d3);
    }

    private static void Accumulate(Vector256<double> value, ReadOnlySpan<double> b0, Span<double> sum, int at) =>
        (Vector256.Create(sum.Slice(at)) + (value - Vector256.Create(b0.Slice(at)))).CopyTo(sum.Slice(at));

    /// <summary>
    /// Four float64 values rounded to the nearest bfloat16, ties to even, on their bits (the top 7 of the 52 mantissa
    /// bits kept, rounded by the other 45), as 64-bit lanes; and which lanes were in bfloat16's normal range.
    /// </summary>
    private static (Vector256<ulong> Bits, Vector256<long> InRange) Round(Vector256<double> x)
    {
        var bits = x.AsUInt64();
        var exponent = (Vector256.ShiftRightLogical(bits, 52) & Vector256.Create(0x7FFUL)).AsInt64() - Vector256.Create(1023L - 127);
        var inRange = Vector256.GreaterThanOrEqual(exponent, Vector256<long>.One) & Vector256.LessThanOrEqual(exponent, Vector256.Create(254L));
        var mantissa = bits & Vector256.Create((1UL << 52) - 1);
        var kept = Vector256.ShiftLeft(exponent.AsUInt64(), 7) | Vector256.ShiftRightLogical(mantissa, 45);
        var rest = mantissa & Vector256.Create((1UL << 45) - 1);
        kept += Vector256.ShiftRightLogical(rest + Vector256.Create((1UL << 44) - 1) + (kept & Vector256<ulong>.One), 45);
        return ((Vector256.ShiftRightLogical(bits, 48) & Vector256.Create(0x8000UL)) | kept, inRange);
    }
}
