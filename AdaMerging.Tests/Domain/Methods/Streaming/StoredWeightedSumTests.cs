using AdaMerging.Domain.Methods.Streaming;
using static TorchSharp.torch;

namespace AdaMerging.Tests.Domain.Methods.Streaming;

/// <summary>
/// Task arithmetic on stored bfloat16 values (docs/algorithm.md, "Streamed merges"): the 256-bit vector passes give the
/// scalar loop's bits on every value, the edges of bfloat16's range included.
/// </summary>
public sealed class StoredWeightedSumTests
{
    [Theory]
    [InlineData(0.3)]
    [InlineData(1.0 / 3)]
    [InlineData(1e30)]
    public void The_vectorised_bfloat16_merge_has_the_scalar_loop_s_bits_everywhere(double coefficient)
    {
        Assert.True(BrainVectors.Applies, "this machine has no 256-bit vectors: the vectorised path is not what runs here");
        var g = new Generator(30);
        const long n = 100_003;   // not a multiple of sixteen: the scalar loop finishes each block
        using var theta0 = WithEdges(randn([n], generator: g).to_type(ScalarType.BFloat16));
        var tasks = Enumerable.Range(0, 3).Select(k => WithEdges(theta0.to_type(ScalarType.Float32).Plus(randn([n], generator: g).Times(0.01)).to_type(ScalarType.BFloat16))).ToList();
        using var vectorised = StoredWeightedSum.Merge(theta0, tasks, coefficient);
        using var scalar = StoredWeightedSum.Merge(theta0, tasks, coefficient, vectorised: false);
        var (v, s) = (Bits(vectorised), Bits(scalar));
        var differing = Enumerable.Range(0, (int)n).Where(i => v[i] != s[i]).Take(5).ToList();
        Assert.True(differing.Count == 0, $"entries {string.Join(", ", differing.Select(i => $"{i}: {v[i]:X4} vs {s[i]:X4}"))} differ");
        tasks.ForEach(t => t.Dispose());
    }

    /// <summary>The values with zeros, infinities, NaN, subnormals and the largest finite values written over some of them.</summary>
    private static Tensor WithEdges(Tensor bfloat16)
    {
        var wide = bfloat16.to_type(ScalarType.Float32);
        float[] edges = [0f, -0f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, 1e-40f, -3e-39f, 3.38e38f, -3.38e38f, 1.17e-38f];
        for (int i = 0; i < edges.Length; i++)
            for (long at = 37L * i + 5; at < wide.shape[0]; at += 997) wide[at] = edges[i];
        return wide.to_type(ScalarType.BFloat16);
    }

    private static ushort[] Bits(Tensor bfloat16)
    {
        using var wide = bfloat16.to_type(ScalarType.Float32);
        return [.. wide.data<float>().ToArray().Select(f => (ushort)(BitConverter.SingleToUInt32Bits(f) >> 16))];
    }
}
