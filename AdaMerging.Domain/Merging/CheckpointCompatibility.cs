using AdaMerging.Domain.Tensors;

namespace AdaMerging.Domain.Merging;

/// <summary>
/// Checks, from headers alone, that a fine-tuned checkpoint has exactly the base's floating tensors with the same
/// shapes. Integer and bool buffers are taken from the base, so they may be missing or differ.
/// </summary>
public static class CheckpointCompatibility
{
    /// <summary>At most <paramref name="limit"/> differences, in the base's tensor order.</summary>
    public static IReadOnlyList<string> Differences(ITensorCatalog baseCatalog, string label, ITensorCatalog other, int limit = 5)
    {
        var found = new List<string>();
        foreach (var b in baseCatalog.Tensors.Where(t => t.DType.IsFloatingPoint))
        {
            if (found.Count >= limit) return found;
            var o = other.Find(b.Name);
            if (o is null)
                found.Add($"{label} lacks tensor '{b.Name}' {b.ShapeText}");
            else if (!o.DType.IsFloatingPoint)
                found.Add($"{label} has '{b.Name}' as {o.DType} where the base has {b.DType}");
            else if (!o.HasSameShape(b))
                found.Add($"{label} has '{b.Name}' with shape {o.ShapeText} where the base has {b.ShapeText}");
        }
        foreach (var o in other.Tensors.Where(t => t.DType.IsFloatingPoint))
        {
            if (found.Count >= limit) return found;
            if (baseCatalog.Find(o.Name) is null)
                found.Add($"{label} has tensor '{o.Name}' {o.ShapeText} that the base lacks");
        }
        return found;
    }
}
