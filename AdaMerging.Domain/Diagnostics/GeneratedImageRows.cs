using AdaMerging.Domain.Datasets;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Diagnostics;

/// <summary>
/// Random images N(0, 1) [C, H, W], each drawn from its own seeded generator when read: the same row gives the same
/// image on every read and device, and none is held (as a real dataset is read from its file).
/// </summary>
public sealed class GeneratedImageRows(long count, long[] shape, ulong seed) : IExampleRows
{
    public long Count => count;

    public Tensor Read(long[] rows, Device device)
    {
        using var scope = NewDisposeScope();
        var images = rows.Select(r =>
        {
            using var generator = new Generator(seed * 1_000_003UL + (ulong)r);
            return randn(shape, generator: generator);
        }).ToArray();
        return stack(images).to(device).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
    }
}
