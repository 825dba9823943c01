using Microsoft.Win32.SafeHandles;
using TorchSharp;

namespace AdaMerging.Domain.Tensors;

/// <summary>
/// An open safetensors file whose tensors are read one at a time, straight into torch memory;
/// the file as a whole is never buffered.
/// </summary>
public sealed class SafetensorsFile : ITensorSource
{
    private readonly SafeFileHandle _handle;
    private readonly SequentialDigest? _digest;

    private SafetensorsFile(string path, SafeFileHandle handle, SafetensorsHeader header, SequentialDigest? digest)
    {
        Path = path;
        _handle = handle;
        Header = header;
        _digest = digest;
    }

    public string Path { get; }

    public SafetensorsHeader Header { get; }

    public IReadOnlyList<TensorInfo> Tensors => Header.Tensors;

    public TensorInfo? Find(string name) => Header.Find(name);

    public static SafetensorsFile Open(string path)
    {
        // The kernel's readahead kept (FileOptions.RandomAccess turns it off): tensors are read whole or in row ranges in
        // file order, and a streamed merge read cold from disk took 26 s where it now takes 17–21 (docs/performance.md).
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.None);
        try
        {
            var header = SafetensorsHeader.Read(handle, RandomAccess.GetLength(handle));
            var file = new SafetensorsFile(path, handle, header, ReadDigests.For(path));
            if (file._digest is not null)
            {
                // The header's bytes again, for a run that takes its inputs' digests from what it reads (ReadDigests).
                var headerBytes = new byte[header.DataStart];
                file.ReadExactly(headerBytes, 0, "the header");
            }
            return file;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Reads one tensor on the CPU in its stored dtype, or converted to <paramref name="convertTo"/>.</summary>
    public torch.Tensor Read(string name, torch.ScalarType? convertTo = null)
    {
        var entry = Header[name];
        if (entry.DType.TorchType is not { } storedType)
            throw new SafetensorsFormatException($"tensor '{name}': dtype {entry.DType} cannot be loaded by torch");
        var tensor = torch.empty(entry.Shape.ToArray(), storedType);
        try
        {
            ReadInto(tensor, entry);
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
        return Convert(tensor, convertTo);
    }

    /// <summary>
    /// Reads the stored bytes straight into a contiguous CPU tensor of the stored dtype and element count; into one of
    /// another dtype through a buffer of the stored dtype, converted in the one copy; anything else is read and
    /// converted as <see cref="ITensorSource.ReadInto"/> does.
    /// </summary>
    public void ReadInto(string name, torch.Tensor destination)
    {
        var entry = Header[name];
        if (destination.device_type == DeviceType.CPU && destination.is_contiguous() && destination.numel() == entry.ElementCount
            && entry.DType.TorchType is { } stored)
        {
            if (stored == destination.dtype)
            {
                ReadInto(destination, entry);
                return;
            }
            using var buffer = torch.empty(destination.shape, stored);
            ReadInto(buffer, entry);
            destination.copy_(buffer);
            return;
        }
        using var value = Read(name, destination.dtype);
        using var shaped = value.reshape(destination.shape);
        destination.copy_(shaped);
    }

    /// <summary>
    /// Rows of a tensor along its first dimension, in the given order, in its stored dtype: [rows, …]. Reads only
    /// those rows' bytes, so a dataset of any size is read a batch at a time (and past the 2 GiB a whole read allows).
    /// </summary>
    public torch.Tensor ReadRows(string name, IReadOnlyList<long> rows)
    {
        var entry = Header[name];
        if (entry.DType.TorchType is not { } storedType)
            throw new SafetensorsFormatException($"tensor '{name}': dtype {entry.DType} cannot be loaded by torch");
        if (entry.Shape.Count == 0) throw new ArgumentException($"tensor '{name}' is a scalar: it has no rows", nameof(name));
        long rowBytes = entry.ByteLength / Math.Max(1, entry.Shape[0]);
        var tensor = torch.empty([rows.Count, .. entry.Shape.Skip(1)], storedType);
        try
        {
            var bytes = tensor.bytes;
            for (int i = 0; i < rows.Count; i++)
            {
                if (rows[i] < 0 || rows[i] >= entry.Shape[0])
                    throw new ArgumentOutOfRangeException(nameof(rows), rows[i], $"tensor '{name}' has {entry.Shape[0]} rows");
                ReadExactly(bytes.Slice(checked((int)(i * rowBytes)), checked((int)rowBytes)), Header.DataStart + entry.Begin + rows[i] * rowBytes, name);
            }
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
        return tensor;
    }

    /// <summary>Rows [firstRow, + rows) along the first dimension in one read of their bytes (a 0-d tensor is one row).</summary>
    public torch.Tensor ReadRowRange(string name, long firstRow, long rows, torch.ScalarType? convertTo = null)
    {
        var entry = Header[name];
        if (entry.DType.TorchType is not { } storedType)
            throw new SafetensorsFormatException($"tensor '{name}': dtype {entry.DType} cannot be loaded by torch");
        long all = entry.Shape.Count == 0 ? 1 : entry.Shape[0];
        if (firstRow < 0 || rows < 0 || firstRow + rows > all)
            throw new ArgumentOutOfRangeException(nameof(rows), $"rows [{firstRow}, {firstRow + rows}) of tensor '{name}' with {all}");
        long rowBytes = entry.ByteLength / Math.Max(1, all);
        if (rows * rowBytes > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(rows), $"{rows * rowBytes} bytes in one read of '{name}'");
        var tensor = torch.empty(entry.Shape.Count == 0 ? [] : [rows, .. entry.Shape.Skip(1)], storedType);
        try
        {
            ReadExactly(tensor.bytes, Header.DataStart + entry.Begin + firstRow * rowBytes, name);
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
        return Convert(tensor, convertTo);
    }

    /// <summary>Rows straight into a contiguous CPU tensor of the stored dtype and their element count; else read, then converted.</summary>
    public void ReadRowRangeInto(string name, long firstRow, long rows, torch.Tensor destination)
    {
        var entry = Header[name];
        long all = entry.Shape.Count == 0 ? 1 : entry.Shape[0], rowBytes = entry.ByteLength / Math.Max(1, all);
        if (entry.DType.TorchType != destination.dtype || destination.device_type != DeviceType.CPU || !destination.is_contiguous()
            || firstRow < 0 || rows < 0 || firstRow + rows > all || destination.numel() * entry.DType.Size != rows * rowBytes)
        {
            using var part = ReadRowRange(name, firstRow, rows, destination.dtype);
            using var flat = part.reshape(destination.shape);
            destination.copy_(flat);
            return;
        }
        ReadExactly(destination.bytes, Header.DataStart + entry.Begin + firstRow * rowBytes, name);
    }

    /// <summary>The tensor itself when no conversion is asked for, else its conversion (and the original disposed).</summary>
    internal static torch.Tensor Convert(torch.Tensor tensor, torch.ScalarType? convertTo)
    {
        if (convertTo is not { } target || target == tensor.dtype) return tensor;
        using (tensor) return tensor.to_type(target);
    }

    private void ReadInto(torch.Tensor tensor, TensorEntry entry)
    {
        if (entry.ByteLength == 0) return;
        if (entry.ByteLength > int.MaxValue)
            throw new SafetensorsFormatException($"tensor '{entry.Name}': {entry.ByteLength} bytes exceeds the 2 GiB a single tensor may hold here");
        ReadExactly(tensor.bytes, Header.DataStart + entry.Begin, entry.Name);
    }

    private void ReadExactly(Span<byte> destination, long offset, string name)
    {
        while (!destination.IsEmpty)
        {
            int read = RandomAccess.Read(_handle, destination, offset);
            if (read == 0) throw new SafetensorsFormatException($"tensor '{name}': the file ended early");
            _digest?.Observe(offset, destination[..read]);
            destination = destination[read..];
            offset += read;
        }
    }

    public void Dispose() => _handle.Dispose();
}
