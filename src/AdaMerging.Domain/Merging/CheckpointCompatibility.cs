using AdaMerging.Domain.Tensors;

namespace AdaMerging.Domain.Merging;

/// <summary>Checks, from headers alone, that fine-tuned checkpoints share the base's tensor names and shapes.</summary>
public static class CheckpointCompatibility
{
    /// <summary>At most <paramref name="limit"/> differences per checkpoint, in the base's tensor order.</summary>
    public static IReadOnlyList<string> Differences(SafetensorsHeader baseHeader, string label, SafetensorsHeader other, int limit = 5)
    {
        var found = new List<string>();
        foreach (var b in baseHeader.Tensors)
        {
            if (found.Count >= limit) return found;
            var o = other.Find(b.Name);
            if (o is null)
                found.Add($"{label} lacks tensor '{b.Name}' {b.ShapeText}");
            else if (!o.HasSameShape(b))
                found.Add($"{label} has '{b.Name}' with shape {o.ShapeText} where the base has {b.ShapeText}");
            else if (o.DType.IsFloatingPoint != b.DType.IsFloatingPoint)
                found.Add($"{label} has '{b.Name}' as {o.DType} where the base has {b.DType}");
        }
        foreach (var o in other.Tensors)
        {
            if (found.Count >= limit) return found;
            if (baseHeader.Find(o.Name) is null)
                found.Add($"{label} has tensor '{o.Name}' {o.ShapeText} that the base lacks");
        }
        return found;
    }
}
