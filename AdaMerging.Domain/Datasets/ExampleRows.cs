using AdaMerging.Domain.Architectures.Clip;
using AdaMerging.Domain.Tensors;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Datasets;

/// <summary>
/// A dataset's examples, read a batch of rows at a time as the model's input (floating [B, C, H, W] images for an
/// image model, [B, D] features for a model over features): a run holds one batch of each task's examples, not the
/// datasets (docs/algorithm.md, "Memory"). The architecture opens them (<see cref="Architectures.ModelSpec.OpenRows"/>).
/// </summary>
public interface IExampleRows : IDisposable
{
    long Count { get; }

    /// <summary>The examples of <paramref name="rows"/>, in that order, on <paramref name="device"/>.</summary>
    Tensor Read(long[] rows, Device device);
}

public static class ExampleRows
{
    /// <summary>Rows <paramref name="start"/> … start + count − 1.</summary>
    public static Tensor ReadRange(this IExampleRows images, long start, long count, Device device)
    {
        var rows = new long[count];
        for (long i = 0; i < count; i++) rows[i] = start + i;
        return images.Read(rows, device);
    }
}

/// <summary>Images already in memory, in their own floating dtype (the caller's tensor, which this takes over).</summary>
public sealed class TensorImageRows(Tensor pixels) : IExampleRows
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
/// batch by the model's own preprocessing (the same element-wise arithmetic as normalising them all at once), float
/// ones taken as preprocessed.
/// </summary>
public sealed class SafetensorsImageRows : IExampleRows
{
    private readonly SafetensorsFile _file;
    private readonly Func<Tensor, Tensor> _normalize;
    private readonly bool _deleteOnDispose;

    /// <param name="normalize">uint8 [B, C, H, W] → the model's float input.</param>
    public SafetensorsImageRows(string path, Func<Tensor, Tensor> normalize, bool deleteOnDispose = false)
    {
        _file = SafetensorsFile.Open(path);
        _normalize = normalize;
        _deleteOnDispose = deleteOnDispose;
        Count = (_file.Find(TensorDataset.Pixels) ?? throw new ArgumentException($"{path} has no '{TensorDataset.Pixels}'", nameof(path))).Shape[0];
    }

    public long Count { get; }

    public Tensor Read(long[] rows, Device device)
    {
        using var scope = NewDisposeScope();
        var raw = _file.ReadRows(TensorDataset.Pixels, rows);
        var pixels = raw.dtype == ScalarType.Byte ? _normalize(raw) : raw.to_type(ScalarType.Float32);
        return pixels.to(device).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        _file.Dispose();
        if (_deleteOnDispose) File.Delete(_file.Path);
    }
}
