using System.Text.Json;

namespace AdaMerging.Domain.Methods.Options;

/// <summary>A closed interval [low, high] of finite numbers, written as a two-number list, low below high, both within [minimum, maximum].</summary>
public sealed class RangeOption(string name, string help, (double Low, double High) defaultValue, double minimum, double maximum)
    : OptionSpec<(double Low, double High)>(name, help, defaultValue)
{
    public override OptionKind Kind => OptionKind.Range;

    public override double? Minimum => minimum;

    public override double? Maximum => maximum;

    public override object ToWire(object value) => value is (double low, double high) ? new[] { low, high } : value;

    public override object? Parse(JsonElement json, out string? problem)
    {
        problem = null;
        if (json.ValueKind != JsonValueKind.Array || json.GetArrayLength() != 2
            || json.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out var d) || !double.IsFinite(d)))
            problem = $"'{Shown(json)}' is not a list of two finite numbers [low, high]";
        else
        {
            double low = json[0].GetDouble(), high = json[1].GetDouble();
            if (low >= high) problem = $"[{low}, {high}]: low must be below high";
            else if (low < minimum || high > maximum) problem = $"[{low}, {high}] is not within [{minimum}, {maximum}]";
            else return (low, high);
        }
        return null;
    }
}
