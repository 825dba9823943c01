using AdaMerging.Domain.Heads;

namespace AdaMerging.Domain.Architectures.Clip;

/// <summary>The CLIP vision shapes the benchmarks and the device check time, by name (docs/performance.md).</summary>
public static class ModelShapes
{
    public static readonly IReadOnlyDictionary<string, ClipVisionConfig> ByName = new Dictionary<string, ClipVisionConfig>(StringComparer.Ordinal)
    {
        ["tiny"] = new ClipVisionConfig(32, 64, 2, 4, 16, 4, 3, "quick_gelu", 1e-5, 24),
        // The reproduction benchmark's shape (docs/reproduction.md): hidden 128, 6 layers, 28 px in 7 px patches.
        ["small"] = new ClipVisionConfig(128, 512, 6, 4, 28, 7, 3, "quick_gelu", 1e-5, 128),
        ["vit-b-32"] = new ClipVisionConfig(),
        ["vit-l-14"] = new ClipVisionConfig(1024, 4096, 24, 16, 224, 14, 3, "quick_gelu", 1e-5, 768),
    };

    public static ClipVisionConfig Named(string name) =>
        ByName.TryGetValue(name, out var c) ? c : throw new ArgumentException($"size '{name}' is not one of {string.Join(", ", ByName.Keys)}");
}
