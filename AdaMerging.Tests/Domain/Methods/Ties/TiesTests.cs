using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Tensors;
using AdaMerging.Domain.Methods;
using static TorchSharp.torch;

namespace AdaMerging.Tests.Domain.Methods;

/// <summary>
/// TIES's trim count against the official topk_values_mask, and the CPU kernel (C#, element by element) against the
/// tensor path, bit for bit (docs/algorithm.md, "TIES").
/// </summary>
public sealed class TiesTests
{
    /// <summary>K tasks over three tensors (240 000 + 50 003 + 7 entries: blocks of the kernel end inside tensors), values with many exact ties and zeros.</summary>
    private static TaskVectors Vectors(int tasks, long seed, int[]? sizes = null)
    {
        var g = new Generator((ulong)seed);
        sizes ??= [240_000, 50_003, 7];
        Dictionary<string, Tensor> Model(double scale) => sizes.Select((n, i) => (n, i))
            .ToDictionary(x => $"t{x.i}", x => randn(x.n, generator: g).Times(scale).round().DividedBy(8));
        var theta0 = Model(20);
        var sources = Enumerable.Range(0, tasks).Select(_ => (ITensorSource)new InMemoryTensorSource(
            Model(20).ToDictionary(kv => kv.Key, kv => kv.Value.Plus(theta0[kv.Key])))).ToList();
        return TaskVectors.Load(new InMemoryTensorSource(theta0), sources, [], ScalarType.Float32, CPU);
    }

    private static int[] Bits(Tensor t) => t.contiguous().data<float>().ToArray().Select(BitConverter.SingleToInt32Bits).ToArray();

    [Theory]
    [InlineData(7, 0.2)]
    [InlineData(10, 0.5)]
    [InlineData(1000, 0.05)]
    [InlineData(65_537, 0.2)]
    [InlineData(200_003, 0.9)]
    public void Trimming_keeps_what_the_official_topk_values_mask_keeps(int n, double topK)
    {
        using var v = Vectors(1, n, [n]);
        using var tau = v.TaskRow(0);
        // The official code: k = int(d · K); keep |τ| ≥ kthvalue(|τ|, d − k).
        using var magnitude = tau.abs();
        var threshold = magnitude.kthvalue(n - (long)Math.Floor(n * topK), 0, false).values.item<float>();
        using var officialMask = magnitude.ge(RootedScalars.Of(threshold)).logical_and(tau.ne(RootedScalars.Zero));
        long official = officialMask.sum().item<long>();
        foreach (var kernel in new[] { TiesKernel.Auto, TiesKernel.Tensors })
        {
            using var processed = Ties.Process(v, topK, kernel);
            using var row = processed.TaskRow(0);
            using var nonZero = row.ne(RootedScalars.Zero);
            Assert.Equal(official, nonZero.sum().item<long>());
            Assert.True(nonZero.logical_xor(officialMask).sum().item<long>() == 0, "the same entries kept");
        }
        Assert.True(official >= (long)Math.Floor(n * topK) + 1 || tau.eq(RootedScalars.Zero).any().item<bool>());   // ⌊n·k⌋ + 1 unless zeros are trimmed
    }

    [Theory]
    [InlineData(0.2)]
    [InlineData(0.5)]
    [InlineData(1.0)]
    public void The_CPU_kernel_processes_every_task_vector_to_the_same_bits_as_the_tensor_path(double topK)
    {
        using var v = Vectors(3, 11);
        using var kernel = Ties.Process(v, topK, TiesKernel.Auto);
        using var tensors = Ties.Process(v, topK, TiesKernel.Tensors);
        for (int k = 0; k < 3; k++)
        {
            using var a = kernel.TaskRow(k);
            using var b = tensors.TaskRow(k);
            Assert.Equal(Bits(b), Bits(a));
        }
        using var row = kernel.TaskRow(0);
        Assert.True(row.eq(RootedScalars.Zero).sum().item<long>() > 0 && row.ne(RootedScalars.Zero).sum().item<long>() > 0, "some entries kept, some dropped");
    }

    [Theory]
    [InlineData(TiesMerge.Sum, 0.3)]
    [InlineData(TiesMerge.Mean, 1.0)]
    [InlineData(TiesMerge.Mean, 0.7)]
    public void The_CPU_kernel_merges_to_the_same_bits_as_the_tensor_path(TiesMerge merge, double lambda)
    {
        using var v = Vectors(4, 5);
        var kernel = Ties.Apply(v, 0.2, merge, lambda, TiesKernel.Auto);
        var tensors = Ties.Apply(v, 0.2, merge, lambda, TiesKernel.Tensors);
        foreach (var name in v.Names) Assert.Equal(Bits(tensors[name]), Bits(kernel[name]));
        using var theta0 = v.BaseFlat();
        Assert.True(kernel["t0"].flatten().ne(theta0.narrow(0, 0, 240_000)).any().item<bool>(), "the merge moved the weights");
        foreach (var t in kernel.Values.Concat(tensors.Values)) t.Dispose();
    }

    [Fact]
    public void The_radix_threshold_is_exactly_torch_kthvalue_of_the_magnitudes_with_ties_and_signed_zeros()
    {
        var g = new Generator(9);
        using var signed = randn(3_000_001, generator: g);
        using var rounded = signed.Times(30).round().DividedBy(7);   // many duplicates and ±0 around every rank
        foreach (var values in new[] { signed, rounded })
        {
            using var magnitudes = values.abs();
            foreach (var rank in new long[] { 1, 2, 1_000_000, 1_500_001, 2_400_000, 3_000_000, 3_000_001 })
                Assert.Equal(magnitudes.kthvalue(rank, 0, false).values.item<float>(), MagnitudeSelection.KthSmallest(values, rank));
        }
    }
}
