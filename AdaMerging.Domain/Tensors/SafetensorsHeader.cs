using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace AdaMerging.Domain.Tensors;

/// <summary>
/// The parsed and fully checked header of a safetensors file. Parsing reads only the first 8 + N bytes,
/// so a multi-GB checkpoint is inspected without touching its data.
/// </summary>
public sealed class SafetensorsHeader : ITensorCatalog
{
    public const long MaxHeaderLength = 100_000_000;

    private readonly Dictionary<string, TensorEntry> _byName;

    private SafetensorsHeader(IReadOnlyList<TensorEntry> tensors, IReadOnlyDictionary<string, string> metadata, long headerLength)
    {
        Tensors = tensors;
        Metadata = metadata;
        HeaderLength = headerLength;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>Tensors in data order.</summary>
    public IReadOnlyList<TensorEntry> Tensors { get; }

    IReadOnlyList<TensorInfo> ITensorCatalog.Tensors => Tensors;

    TensorInfo? ITensorCatalog.Find(string name) => Find(name);

    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>N, the JSON length; the data section starts at 8 + N.</summary>
    public long HeaderLength { get; }

    public long DataStart => 8 + HeaderLength;

    public long ParameterCount => Tensors.Sum(t => t.ElementCount);

    public TensorEntry? Find(string name) => _byName.GetValueOrDefault(name);

    public TensorEntry this[string name] =>
        Find(name) ?? throw new KeyNotFoundException($"tensor '{name}' is not in the checkpoint");

    public static SafetensorsHeader Read(string path, long maxHeaderLength = MaxHeaderLength)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        return Read(handle, RandomAccess.GetLength(handle), maxHeaderLength);
    }

    public static SafetensorsHeader Read(Microsoft.Win32.SafeHandles.SafeFileHandle handle, long fileLength, long maxHeaderLength = MaxHeaderLength)
    {
        if (fileLength < 8)
            throw new SafetensorsFormatException($"not a safetensors file: {fileLength} bytes is shorter than the 8-byte header length");
        Span<byte> prefix = stackalloc byte[8];
        ReadExactly(handle, prefix, 0);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (n > (ulong)Math.Min(maxHeaderLength, MaxHeaderLength))
            throw new SafetensorsFormatException($"not a safetensors file: header length {n} exceeds the limit of {Math.Min(maxHeaderLength, MaxHeaderLength)} bytes");
        if (8 + (long)n > fileLength)
            throw new SafetensorsFormatException($"not a safetensors file: header length {n} runs past the end of the {fileLength}-byte file");
        var json = new byte[n];
        ReadExactly(handle, json, 8);
        return Parse(json, fileLength - 8 - (long)n);
    }

    /// <summary>Parses the header JSON and checks every rule against a data section of <paramref name="dataLength"/> bytes.</summary>
    public static SafetensorsHeader Parse(ReadOnlySpan<byte> json, long dataLength)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw new SafetensorsFormatException($"not a safetensors file: the header is not valid JSON ({e.Message})", e);
        }
        using (document)
        {
            try
            {
                return Parse(document, json.Length, dataLength);
            }
            catch (InvalidOperationException e)
            {
                // Names and strings are decoded lazily; invalid UTF-8 in them surfaces here.
                throw new SafetensorsFormatException($"not a safetensors file: the header is not valid JSON text ({e.Message})", e);
            }
        }
    }

    private static SafetensorsHeader Parse(JsonDocument document, long headerLength, long dataLength)
    {
        if (document.RootElement.ValueKind != JsonValueKind.Object)
            throw new SafetensorsFormatException("not a safetensors file: the header JSON is not an object");
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var tensors = new List<TensorEntry>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in document.RootElement.EnumerateObject())
        {
            if (!seen.Add(property.Name))
                throw new SafetensorsFormatException($"tensor '{property.Name}': the name appears twice in the header");
            if (property.Name == "__metadata__")
                ReadMetadata(property.Value, metadata);
            else
                tensors.Add(ReadEntry(property.Name, property.Value));
        }
        CheckLayout(tensors, dataLength);
        return new SafetensorsHeader(tensors.OrderBy(t => t.Begin).ThenBy(t => t.End).ToList(), metadata, headerLength);
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new SafetensorsFormatException("__metadata__ must be an object of strings");
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw new SafetensorsFormatException($"__metadata__ '{item.Name}' must be a string");
            metadata[item.Name] = item.Value.GetString()!;
        }
    }

    private static TensorEntry ReadEntry(string name, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new SafetensorsFormatException($"tensor '{name}': its entry is not an object");
        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw new SafetensorsFormatException($"tensor '{name}': dtype is missing or not a string");
        if (!SafetensorsDType.TryParse(dtypeElement.GetString()!, out var dtype))
            throw new SafetensorsFormatException($"tensor '{name}': unknown dtype '{dtypeElement.GetString()}'");
        var shape = ReadIntegers(name, value, "shape", expectedCount: null);
        var offsets = ReadIntegers(name, value, "data_offsets", expectedCount: 2);
        if (offsets[0] > offsets[1])
            throw new SafetensorsFormatException($"tensor '{name}': data_offsets [{offsets[0]}, {offsets[1]}] end before they begin");
        long expected = ExpectedBytes(name, shape, dtype);
        if (offsets[1] - offsets[0] != expected)
            throw new SafetensorsFormatException(
                $"tensor '{name}': data_offsets span {offsets[1] - offsets[0]} bytes but shape [{string.Join(", ", shape)}] of {dtype} needs {expected}");
        return new TensorEntry(name, dtype, shape, offsets[0], offsets[1]);
    }

    private static long[] ReadIntegers(string name, JsonElement value, string field, int? expectedCount)
    {
        if (!value.TryGetProperty(field, out var array) || array.ValueKind != JsonValueKind.Array)
            throw new SafetensorsFormatException($"tensor '{name}': {field} is missing or not an array");
        if (expectedCount is { } count && array.GetArrayLength() != count)
            throw new SafetensorsFormatException($"tensor '{name}': {field} must have {count} entries");
        if (array.GetArrayLength() > 64)
            throw new SafetensorsFormatException($"tensor '{name}': {field} has more than 64 dimensions");
        var result = new long[array.GetArrayLength()];
        int i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var v) || v < 0)
                throw new SafetensorsFormatException($"tensor '{name}': {field} entries must be non-negative integers");
            result[i++] = v;
        }
        return result;
    }

    private static long ExpectedBytes(string name, long[] shape, SafetensorsDType dtype)
    {
        try
        {
            return checked(shape.Aggregate(1L, (a, b) => checked(a * b)) * dtype.Size);
        }
        catch (OverflowException)
        {
            throw new SafetensorsFormatException($"tensor '{name}': shape [{string.Join(", ", shape)}] is too large");
        }
    }

    private static void CheckLayout(List<TensorEntry> tensors, long dataLength)
    {
        long cursor = 0;
        foreach (var t in tensors.OrderBy(t => t.Begin).ThenBy(t => t.End))
        {
            if (t.Begin < cursor)
                throw new SafetensorsFormatException($"tensor '{t.Name}': data_offsets [{t.Begin}, {t.End}] overlap the previous tensor, which ends at {cursor}");
            if (t.Begin > cursor)
                throw new SafetensorsFormatException($"tensor '{t.Name}': data_offsets [{t.Begin}, {t.End}] leave a hole after byte {cursor}");
            if (t.End > dataLength)
                throw new SafetensorsFormatException($"tensor '{t.Name}': data_offsets [{t.Begin}, {t.End}] fall outside the {dataLength}-byte data section");
            cursor = t.End;
        }
        if (cursor != dataLength)
            throw new SafetensorsFormatException($"the data section is {dataLength} bytes but the tensors end at {cursor}: the data does not end at the file's end");
    }

    private static void ReadExactly(Microsoft.Win32.SafeHandles.SafeFileHandle handle, Span<byte> buffer, long offset)
    {
        while (!buffer.IsEmpty)
        {
            int read = RandomAccess.Read(handle, buffer, offset);
            if (read == 0) throw new SafetensorsFormatException("not a safetensors file: it ended early");
            buffer = buffer[read..];
            offset += read;
        }
    }

    /// <summary>The header JSON a writer produces: tensors in order, `{"format":"pt"}`, space-padded to a multiple of 8.</summary>
    public static byte[] Serialize(IEnumerable<(string Name, SafetensorsDType DType, IReadOnlyList<long> Shape)> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartObject("__metadata__");
            w.WriteString("format", "pt");
            foreach (var (k, v) in metadata ?? new Dictionary<string, string>())
                if (k != "format") w.WriteString(k, v);
            w.WriteEndObject();
            long offset = 0;
            foreach (var (name, dtype, shape) in tensors)
            {
                long bytes = shape.Aggregate(1L, (a, b) => a * b) * dtype.Size;
                w.WriteStartObject(name);
                w.WriteString("dtype", dtype.Name);
                w.WriteStartArray("shape");
                foreach (var d in shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + bytes);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += bytes;
            }
            w.WriteEndObject();
        }
        int padding = (int)((8 - buffer.Length % 8) % 8);
        for (int i = 0; i < padding; i++) buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }
}
