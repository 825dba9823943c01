namespace AdaMerging.Domain.Tensors;

/// <summary>One tensor as a safetensors header describes it; offsets are relative to the data section.</summary>
public sealed record TensorEntry(string Name, SafetensorsDType DType, IReadOnlyList<long> Shape, long Begin, long End)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    public long ByteLength => End - Begin;

    public bool HasSameShape(TensorEntry other) => Shape.SequenceEqual(other.Shape);

    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}
