using AdaMerging.Domain.Tensors;

namespace AdaMerging.Domain.Architectures;

/// <summary>Weights checked against the tensors a config expects (the text families' layouts share it).</summary>
public static class ExpectedTensors
{
    /// <summary>Every expected tensor that is missing, not floating, or of another shape, then what <paramref name="more"/> adds; at most 5, then a count.</summary>
    public static IReadOnlyList<string> Mismatches(ITensorCatalog weights, IEnumerable<(string Name, long[] Shape)> expected, IEnumerable<string> more)
    {
        var found = new List<string>();
        foreach (var (name, shape) in expected)
        {
            var t = weights.Find(name);
            if (t is null) found.Add($"'{name}' is missing");
            else if (!t.DType.IsFloatingPoint) found.Add($"'{name}' is {t.DType}, not floating");
            else if (!t.Shape.SequenceEqual(shape)) found.Add($"'{name}' is {t.ShapeText} where [{string.Join(", ", shape)}] is expected");
        }
        found.AddRange(more);
        return found.Count <= 5 ? found : [.. found.Take(5), $"and {found.Count - 5} more"];
    }

    /// <summary>A classifier's weight that does not take <paramref name="features"/> inputs, when the weights carry it.</summary>
    public static IEnumerable<string> ClassifierWidth(ITensorCatalog weights, string weight, int features) =>
        weights.Find(weight) is { } w && (w.Shape.Count != 2 || w.Shape[1] != features) ? [$"'{weight}' is {w.ShapeText} where [classes, {features}] is expected"] : [];
}
