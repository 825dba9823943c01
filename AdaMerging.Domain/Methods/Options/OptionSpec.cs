using System.Text.Json;

namespace AdaMerging.Domain.Methods.Options;

/// <summary>The JSON kind of an option's value, as the OpenAPI document states it.</summary>
public enum OptionKind
{
    Number,
    WholeNumber,
    Boolean,
    Choice,
    PatternList,
    Coefficients,
    MergeId,
    Range,
}

/// <summary>
/// One option of a merge method: its JSON name, one line of help, its default and the values it allows. The request
/// validation and the OpenAPI document are both derived from these declarations (docs/algorithm.md, "Methods").
/// </summary>
public abstract class OptionSpec(string name, string help)
{
    public string Name { get; } = name;

    public string Help { get; } = help;

    public abstract OptionKind Kind { get; }

    /// <summary>The default as it appears on the wire (an enum's name, a list as a list).</summary>
    public abstract object WireDefault { get; }

    public virtual double? Minimum => null;

    public virtual double? Maximum => null;

    public virtual bool MinimumExclusive => false;

    public virtual bool MaximumExclusive => false;

    /// <summary>The allowed values of a string option; null for free values.</summary>
    public virtual IReadOnlyList<string>? Allowed => null;

    /// <summary>The typed value of <paramref name="json"/>, or a problem that says why it is not one.</summary>
    public abstract object? Parse(JsonElement json, out string? problem);

    public abstract object BoxedDefault { get; }

    /// <summary>A value as the report and the echoed request show it.</summary>
    public virtual object ToWire(object value) => value;

    /// <summary>A user's value as messages quote it: never more than 60 characters of it.</summary>
    public static string Shown(string? value) => value is null ? "null" : value.Length <= 60 ? value : value[..60] + $"… ({value.Length} characters)";

    protected static string Shown(JsonElement json) => Shown(json.ValueKind == JsonValueKind.String ? json.GetString() : json.GetRawText());
}

/// <summary>An option whose value has the C# type <typeparamref name="T"/>.</summary>
public abstract class OptionSpec<T>(string name, string help, T defaultValue) : OptionSpec(name, help) where T : notnull
{
    public T DefaultValue { get; } = defaultValue;

    public override object BoxedDefault => DefaultValue;

    public override object WireDefault => ToWire(DefaultValue);

    /// <summary>This option's value in a method's resolved options.</summary>
    public T In(MethodOptions options) => options.Get(this);
}
