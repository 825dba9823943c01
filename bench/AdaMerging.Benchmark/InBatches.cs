using static TorchSharp.torch;

namespace AdaMerging.Benchmark;

/// <summary>A function of many images applied in batches without gradients, the outputs concatenated (the builders' feature passes).</summary>
public static class InBatches
{
    public static Tensor Map(Tensor images, int batchSize, Func<Tensor, Tensor> forward)
    {
        using var _ = no_grad();
        var parts = new List<Tensor>();
        for (long start = 0; start < images.shape[0]; start += batchSize)
        {
            using var scope = NewDisposeScope();
            parts.Add(forward(images.narrow(0, start, Math.Min(batchSize, images.shape[0] - start))).MoveToOuterDisposeScope());
        }
        var all = cat(parts, 0);
        foreach (var p in parts) p.Dispose();
        return all;
    }
}
