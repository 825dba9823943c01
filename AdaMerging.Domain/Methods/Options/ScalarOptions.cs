using System.Text.Json;

namespace AdaMerging.Domain.Methods.Options;

/// <summary>A finite real number within a range (either end may be open).</summary>
public sealed class NumberOption(string name, string help, double defaultValue, double minimum, double maximum,
    bool minimumExclusive = false, bool maximumExclusive = false) : OptionSpec<double>(name, help, defaultValue)
{
    public override OptionKind Kind => OptionKind.Number;

    public override double? Minimum => minimum;

    public override double? Maximum => maximum;

    public override bool MinimumExclusive => minimumExclusive;

    public override bool MaximumExclusive => maximumExclusive;

    public override object? Parse(JsonElement json, out string? problem)
    {
        problem = null;
        if (json.ValueKind != JsonValueKind.Number || !json.TryGetDouble(out var value) || !double.IsFinite(value))
            problem = $"'{Shown(json)}' is not a finite number";
        else if ((minimumExclusive ? value <= minimum : value < minimum) || (maximumExclusive ? value >= maximum : value > maximum))
            problem = $"{value} is outside {(minimumExclusive ? '(' : '[')}{minimum}, {maximum}{(maximumExclusive ? ')' : ']')}";
        else return value;
        return null;
    }
}

/// <summary>A whole number within a closed range.</summary>
public sealed class IntegerOption(string name, string help, long defaultValue, long minimum, long maximum) : OptionSpec<long>(name, help, defaultValue)
{
    public override OptionKind Kind => OptionKind.WholeNumber;

    public override double? Minimum => minimum;

    public override double? Maximum => maximum;

    public override object? Parse(JsonElement json, out string? problem)
    {
        problem = null;
        if (json.ValueKind != JsonValueKind.Number || !json.TryGetInt64(out var value)) problem = $"'{Shown(json)}' is not a whole number";
        else if (value < minimum || value > maximum) problem = $"{value} is outside {minimum}-{maximum}";
        else return value;
        return null;
    }
}

/// <summary>true or false.</summary>
public sealed class BooleanOption(string name, string help, bool defaultValue) : OptionSpec<bool>(name, help, defaultValue)
{
    public override OptionKind Kind => OptionKind.Boolean;

    public override object? Parse(JsonElement json, out string? problem)
    {
        problem = json.ValueKind is JsonValueKind.True or JsonValueKind.False ? null : $"'{Shown(json)}' is not true or false";
        return problem is null ? json.GetBoolean() : null;
    }
}

/// <summary>One of an enum's values, spelt in snake_case on the wire (<c>task_arithmetic</c>, <c>bfloat16</c>).</summary>
public sealed class EnumOption<TEnum>(string name, string help, TEnum defaultValue) : OptionSpec<TEnum>(name, help, defaultValue)
    where TEnum : struct, Enum
{
    private static readonly Dictionary<string, TEnum> ByWireName =
        Enum.GetValues<TEnum>().ToDictionary(v => WireName.Of(v), v => v, StringComparer.Ordinal);

    public override OptionKind Kind => OptionKind.Choice;

    public override IReadOnlyList<string> Allowed { get; } = [.. ByWireName.Keys];

    public override object ToWire(object value) => WireName.Of((TEnum)value);

    public override object? Parse(JsonElement json, out string? problem)
    {
        problem = null;
        if (json.ValueKind == JsonValueKind.String && ByWireName.TryGetValue(json.GetString()!, out var value)) return value;
        problem = $"'{Shown(json)}' is not one of {string.Join(", ", Allowed)}";
        return null;
    }
}

/// <summary>An enum value as the API spells it: snake_case (<c>TaskArithmetic</c> → <c>task_arithmetic</c>).</summary>
public static class WireName
{
    public static string Of(Enum value) => JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());
}
