using AdaMerging.Domain.Tensors;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Datasets;

/// <summary>
/// A dataset's images, read a batch of rows at a time, ready for the encoder (floating [B, C, H, W]): a run holds one
/// batch of each task's images, not the datasets (docs/algorithm.md, "Memory").
/// </summary>
public interface IImageRows : IDisposable
{
    long Count { get; }

    /// <summary>The images of <paramref name="rows"/>, in that order, on <paramref name="device"/>.</summary>
    Tensor Read(long[] rows, Device device);
}

public static class ImageRows
{
    /// <summary>Rows <paramref name="start"/> … start + count − 1.</summary>
    public static Tensor ReadRange(this IImageRows images, long start, long count, Device device)
    {
        var rows = new long[count];
        for (long i = 0; i < count; i++) rows[i] = start + i;
        return images.Read(rows, device);
    }
}

/// <summary>Images already in memory, in their own floating dtype (the caller's tensor, which this takes over).</summary>
public sealed class TensorImageRows(Tensor pixels) : IImageRows
{
    public long Count => pixels.shape[0];

    public Tensor Read(long[] rows, Device device)
    {
        using var scope = NewDisposeScope();
        var index = tensor(rows, device: pixels.device);
        return pixels.index_select(0, index).to(device).MoveToOuterDisposeScope();
    }

    public void Dispose() => pixels.Dispose();
}

/// <summary>
/// The `pixel_values` rows of a safetensors file, read from the file when asked: uint8 images are normalised per
/// batch (the same element-wise arithmetic as normalising them all at once), float ones taken as preprocessed.
/// </summary>
public sealed class SafetensorsImageRows : IImageRows
{
    private readonly SafetensorsFile _file;
    private readonly bool _deleteOnDispose;

    public SafetensorsImageRows(string path, bool deleteOnDispose = false)
    {
        _file = SafetensorsFile.Open(path);
        _deleteOnDispose = deleteOnDispose;
        Count = (_file.Find(TensorDataset.Pixels) ?? throw new ArgumentException($"{path} has no '{TensorDataset.Pixels}'", nameof(path))).Shape[0];
    }

    public long Count { get; }

    public Tensor Read(long[] rows, Device device)
    {
        using var scope = NewDisposeScope();
        var raw = _file.ReadRows(TensorDataset.Pixels, rows);
        var pixels = raw.dtype == ScalarType.Byte ? ClipPreprocessing.Normalize(raw) : raw.to_type(ScalarType.Float32);
        return pixels.to(device).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        _file.Dispose();
        if (_deleteOnDispose) File.Delete(_file.Path);
    }
}
