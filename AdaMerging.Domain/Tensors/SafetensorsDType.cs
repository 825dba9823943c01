using TorchSharp;

namespace AdaMerging.Domain.Tensors;

/// <summary>The element types the safetensors format names, with their sizes and torch equivalents.</summary>
public sealed record SafetensorsDType(string Name, int Size, torch.ScalarType? TorchType, bool IsFloatingPoint)
{
    public static readonly SafetensorsDType F64 = new("F64", 8, torch.ScalarType.Float64, true);
    public static readonly SafetensorsDType F32 = new("F32", 4, torch.ScalarType.Float32, true);
    public static readonly SafetensorsDType F16 = new("F16", 2, torch.ScalarType.Float16, true);
    public static readonly SafetensorsDType BF16 = new("BF16", 2, torch.ScalarType.BFloat16, true);
    public static readonly SafetensorsDType I64 = new("I64", 8, torch.ScalarType.Int64, false);
    public static readonly SafetensorsDType I32 = new("I32", 4, torch.ScalarType.Int32, false);
    public static readonly SafetensorsDType I16 = new("I16", 2, torch.ScalarType.Int16, false);
    public static readonly SafetensorsDType I8 = new("I8", 1, torch.ScalarType.Int8, false);
    public static readonly SafetensorsDType U8 = new("U8", 1, torch.ScalarType.Byte, false);
    public static readonly SafetensorsDType Bool = new("BOOL", 1, torch.ScalarType.Bool, false);
    // Named by the format; torch 2.10 through TorchSharp cannot hold them, so they can be listed but not loaded.
    public static readonly SafetensorsDType U16 = new("U16", 2, null, false);
    public static readonly SafetensorsDType U32 = new("U32", 4, null, false);
    public static readonly SafetensorsDType U64 = new("U64", 8, null, false);
    public static readonly SafetensorsDType F8E4M3 = new("F8_E4M3", 1, null, true);
    public static readonly SafetensorsDType F8E5M2 = new("F8_E5M2", 1, null, true);

    private static readonly Dictionary<string, SafetensorsDType> ByName =
        new[] { F64, F32, F16, BF16, I64, I32, I16, I8, U8, Bool, U16, U32, U64, F8E4M3, F8E5M2 }
            .ToDictionary(d => d.Name, StringComparer.Ordinal);

    public static bool TryParse(string name, out SafetensorsDType dtype) => ByName.TryGetValue(name, out dtype!);

    public static SafetensorsDType FromTorch(torch.ScalarType type) =>
        ByName.Values.FirstOrDefault(d => d.TorchType == type)
        ?? throw new ArgumentException($"torch dtype {type} has no safetensors equivalent", nameof(type));

    public override string ToString() => Name;
}
