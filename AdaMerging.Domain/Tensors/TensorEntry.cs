namespace AdaMerging.Domain.Tensors;

/// <summary>A named tensor's element type and shape, wherever it is stored.</summary>
public record TensorInfo(string Name, SafetensorsDType DType, IReadOnlyList<long> Shape)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    public long ByteLength => ElementCount * DType.Size;

    public bool HasSameShape(TensorInfo other) => Shape.SequenceEqual(other.Shape);

    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}

/// <summary>One tensor as a safetensors header describes it; offsets are relative to the data section.</summary>
public sealed record TensorEntry(string Name, SafetensorsDType DType, IReadOnlyList<long> Shape, long Begin, long End)
    : TensorInfo(Name, DType, Shape);
