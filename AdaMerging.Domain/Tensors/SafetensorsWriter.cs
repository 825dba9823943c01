using TorchSharp;

namespace AdaMerging.Domain.Tensors;

/// <summary>
/// Writes a safetensors file tensor by tensor in a declared order. Everything goes to a hidden temporary
/// file beside the target, which is flushed and renamed into place only by <see cref="Commit"/>;
/// a writer disposed before that leaves nothing behind.
/// </summary>
public sealed class SafetensorsWriter : IDisposable
{
    private readonly IReadOnlyList<(string Name, SafetensorsDType DType, IReadOnlyList<long> Shape)> _layout;
    private readonly string _targetPath;
    private readonly string _tempPath;
    private readonly FileStream _stream;
    private readonly Diagnostics.WriteBehind _writeBehind;
    private int _next;
    private bool _committed;

    public SafetensorsWriter(string targetPath,
        IReadOnlyList<(string Name, SafetensorsDType DType, IReadOnlyList<long> Shape)> layout,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        _layout = layout;
        _targetPath = System.IO.Path.GetFullPath(targetPath);
        _tempPath = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(_targetPath)!,
            $".{System.IO.Path.GetFileName(_targetPath)}.{Guid.NewGuid():N}.partial");
        var header = SafetensorsHeader.Serialize(layout, metadata);
        _stream = new FileStream(_tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        _writeBehind = new Diagnostics.WriteBehind(_stream);
        Span<byte> length = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        _stream.Write(length);
        _stream.Write(header);
    }

    /// <summary>The layout of tensors in memory, in their order.</summary>
    public static List<(string Name, SafetensorsDType DType, IReadOnlyList<long> Shape)> LayoutOf(IEnumerable<KeyValuePair<string, torch.Tensor>> tensors) =>
        tensors.Select(kv => (kv.Key, SafetensorsDType.FromTorch(kv.Value.dtype), (IReadOnlyList<long>)kv.Value.shape)).ToList();

    /// <summary>Writes tensors in memory as one file, atomically.</summary>
    public static void Save(string path, IReadOnlyDictionary<string, torch.Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var writer = new SafetensorsWriter(path, LayoutOf(tensors), metadata);
        foreach (var (name, tensor) in tensors) writer.Write(name, tensor);
        writer.Commit();
    }

    /// <summary>Appends the next tensor; its name, shape and dtype must be the next in the layout.</summary>
    public void Write(string name, torch.Tensor tensor)
    {
        if (_next >= _layout.Count)
            throw new InvalidOperationException($"tensor '{name}' is beyond the {_layout.Count} tensors declared");
        var (expectedName, dtype, shape) = _layout[_next];
        if (name != expectedName)
            throw new InvalidOperationException($"tensor '{name}' written where '{expectedName}' was declared");
        if (!tensor.shape.SequenceEqual(shape) || tensor.dtype != dtype.TorchType)
            throw new InvalidOperationException(
                $"tensor '{name}' is {tensor.dtype} [{string.Join(", ", tensor.shape)}] but was declared {dtype} [{string.Join(", ", shape)}]");
        using var scope = torch.NewDisposeScope();
        var cpu = tensor.device_type == DeviceType.CPU ? tensor : tensor.cpu();
        var contiguous = cpu.is_contiguous() ? cpu : cpu.contiguous();
        if (contiguous.numel() > 0) _stream.Write(contiguous.bytes);
        _writeBehind.Advance();
        _next++;
    }

    /// <summary>
    /// Appends the next tensor from consecutive slices along its first dimension, each taken and written in turn
    /// (a dataset decoded an image at a time is never whole in memory), and disposed once written. The slices must add
    /// up to the declared shape.
    /// </summary>
    public void WriteRows(string name, torch.ScalarType dtype, IEnumerable<torch.Tensor> slices)
    {
        var (expectedName, declared, shape) = _layout[_next];
        if (name != expectedName || dtype != declared.TorchType)
            throw new InvalidOperationException($"tensor '{name}' ({dtype}) written where '{expectedName}' ({declared}) was declared");
        long rows = 0;
        foreach (var slice in slices)
        {
            using var owned = slice;
            using var scope = torch.NewDisposeScope();
            if (slice.dtype != dtype || !slice.shape.Skip(1).SequenceEqual(shape.Skip(1)) || rows + slice.shape[0] > shape[0])
                throw new InvalidOperationException($"a slice {slice.dtype} [{string.Join(", ", slice.shape)}] does not fit '{name}' {declared} [{string.Join(", ", shape)}] after {rows} rows");
            var contiguous = slice.cpu().contiguous();
            if (contiguous.numel() > 0) _stream.Write(contiguous.bytes);
            _writeBehind.Advance();
            rows += slice.shape[0];
        }
        if (rows != shape[0]) throw new InvalidOperationException($"'{name}' was declared with {shape[0]} rows but {rows} were written");
        _next++;
    }

    /// <summary>Flushes to disk and atomically renames the file into place.</summary>
    public void Commit()
    {
        if (_next != _layout.Count)
            throw new InvalidOperationException($"only {_next} of {_layout.Count} declared tensors were written");
        _stream.Flush(flushToDisk: true);
        _stream.Dispose();
        File.Move(_tempPath, _targetPath, overwrite: true);
        _committed = true;
    }

    public void Dispose()
    {
        _stream.Dispose();
        if (!_committed) File.Delete(_tempPath);
    }
}
