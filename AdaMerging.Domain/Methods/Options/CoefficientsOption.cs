using System.Text.Json;

namespace AdaMerging.Domain.Methods.Options;

/// <summary>
/// Merge coefficients given instead of learned: rows of K values, each row named by its layer ("all" for one row per
/// task). <see cref="None"/> when not given.
/// </summary>
public sealed class GivenCoefficients
{
    public static GivenCoefficients None { get; } = new([]);

    public GivenCoefficients(IReadOnlyList<(string Layer, double[] Lambda)> rows) => Rows = rows;

    public IReadOnlyList<(string Layer, double[] Lambda)> Rows { get; }

    public bool IsGiven => Rows.Count > 0;

    /// <summary>As coefficients.json writes them: <c>{"layers": [{"layer": …, "lambda": […]}]}</c>, null when not given.</summary>
    public object? Wire() => IsGiven ? new { layers = Rows.Select(r => new { layer = r.Layer, lambda = r.Lambda }) } : null;
}

/// <summary>
/// Coefficients as a request gives them: a list of K numbers (one per task), an object of layer name → K numbers, or
/// coefficients.json as an earlier merge wrote it (<c>{"tasks": […], "layers": [{"layer", "lambda"}]}</c>).
/// </summary>
public sealed class CoefficientsOption(string name, string help) : OptionSpec<GivenCoefficients>(name, help, GivenCoefficients.None)
{
    private const int MaxRows = 100_000;

    public override OptionKind Kind => OptionKind.Coefficients;

    public override object ToWire(object value) => ((GivenCoefficients)value).Wire()!;

    public override object WireDefault => null!;

    public override object? Parse(JsonElement json, out string? problem)
    {
        problem = null;
        var rows = new List<(string, double[])>();
        switch (json.ValueKind)
        {
            case JsonValueKind.Null:
                return GivenCoefficients.None;
            case JsonValueKind.Array:
                rows.Add(("all", Values(json, ref problem) ?? []));
                break;
            case JsonValueKind.Object when json.TryGetProperty("layers", out var layers) && layers.ValueKind == JsonValueKind.Array:
                foreach (var row in layers.EnumerateArray().Take(MaxRows + 1))
                    rows.Add(row.ValueKind == JsonValueKind.Object && row.TryGetProperty("layer", out var l) && l.ValueKind == JsonValueKind.String
                        && row.TryGetProperty("lambda", out var v) ? (l.GetString()!, Values(v, ref problem) ?? []) : ("", Bad(ref problem)));
                break;
            case JsonValueKind.Object:
                foreach (var row in json.EnumerateObject().Take(MaxRows + 1)) rows.Add((row.Name, Values(row.Value, ref problem) ?? []));
                break;
            default:
                problem = "must be a list of one number per task, an object of layer name → one number per task, or coefficients.json";
                return null;
        }
        if (rows.Count > MaxRows) problem ??= $"more than {MaxRows} rows";
        if (rows.Count == 0) problem ??= "has no rows";
        if (rows.Select(r => r.Item2.Length).Distinct().Count() > 1) problem ??= "rows have different numbers of values";
        if (rows.GroupBy(r => r.Item1).FirstOrDefault(g => g.Count() > 1) is { } twice) problem ??= $"layer '{Shown(twice.Key)}' is given twice";
        return problem is null ? new GivenCoefficients(rows) : null;
    }

    private static double[] Bad(ref string? problem)
    {
        problem ??= "each entry of layers must be {\"layer\": name, \"lambda\": [numbers]}";
        return [];
    }

    private static double[]? Values(JsonElement json, ref string? problem)
    {
        if (json.ValueKind != JsonValueKind.Array || json.GetArrayLength() is 0 or > 64
            || json.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.Number || !double.IsFinite(v.GetDouble())))
        {
            problem ??= $"'{Shown(json)}' is not a list of 1-64 finite numbers";
            return null;
        }
        return [.. json.EnumerateArray().Select(v => v.GetDouble())];
    }
}

/// <summary>An earlier merge's id whose learned coefficients are reused; <see cref="Guid.Empty"/> when not given.</summary>
public sealed class MergeIdOption(string name, string help) : OptionSpec<Guid>(name, help, Guid.Empty)
{
    public override OptionKind Kind => OptionKind.MergeId;

    public override object ToWire(object value) => (Guid)value == Guid.Empty ? null! : value;

    public override object? Parse(JsonElement json, out string? problem)
    {
        problem = null;
        if (json.ValueKind == JsonValueKind.Null) return Guid.Empty;
        if (json.ValueKind == JsonValueKind.String && Guid.TryParse(json.GetString(), out var id) && id != Guid.Empty) return id;
        problem = $"'{Shown(json)}' is not a merge id";
        return null;
    }
}
