using System.Text.Json;
using AdaMerging.Domain.Jobs;
using AdaMerging.Domain.Methods.Options;

namespace AdaMerging.Domain.Methods;

/// <summary>
/// A method's options with every value resolved: the request's where given, the declared default otherwise. Built
/// only by <see cref="Parse"/>, so a value here has passed its option's check.
/// </summary>
public sealed class MethodOptions
{
    private readonly Dictionary<string, object> _values;
    private readonly Dictionary<string, OptionSpec> _declared;

    private MethodOptions(Dictionary<string, object> values, Dictionary<string, OptionSpec> declared)
    {
        _values = values;
        _declared = declared;
    }

    /// <summary>Every option of the method (its own and the common ones) by name, as the report shows them.</summary>
    public IReadOnlyDictionary<string, object> Wire(IMergeMethod method) =>
        MergeMethods.OptionsOf(method).ToDictionary(o => o.Name, o => o.ToWire(_values[o.Name]), StringComparer.Ordinal);

    /// <summary>The value of an option the method declared (the same declaration: DARE's seed is not AdaMerging's).</summary>
    public T Get<T>(OptionSpec<T> option) where T : notnull =>
        _declared.TryGetValue(option.Name, out var declared) && ReferenceEquals(declared, option)
            ? (T)_values[option.Name]
            : throw new ArgumentException($"'{option.Name}' as asked for is not an option this method declared");

    /// <summary>
    /// Resolves <paramref name="given"/> against <paramref name="method"/>'s options; every problem goes to
    /// <paramref name="problems"/> (at /options/name, worded "options.name: why"), and then the result is null.
    /// </summary>
    public static MethodOptions? Parse(IMergeMethod method, IReadOnlyDictionary<string, JsonElement>? given, List<RequestProblem> problems)
    {
        var declared = MergeMethods.OptionsOf(method);
        var values = declared.ToDictionary(o => o.Name, o => o.BoxedDefault, StringComparer.Ordinal);
        int before = problems.Count;
        foreach (var (name, json) in given ?? new Dictionary<string, JsonElement>())
        {
            if (declared.FirstOrDefault(o => o.Name == name) is not { } option)
            {
                problems.Add(new(At(name), RequestProblemCode.Unknown,
                    $"options.{OptionSpec.Shown(name)}: {Unknown(method, name)}; its options: {string.Join(", ", declared.Select(o => o.Name))}"));
                continue;
            }
            if (json.ValueKind == JsonValueKind.Null) continue; // null means the default, as an absent option does
            if (option.Parse(json, out var problem) is { } value) values[name] = value;
            else problems.Add(new(At(name), RequestProblemCode.Invalid, $"options.{name}: {problem}"));
        }
        return problems.Count == before ? new MethodOptions(values, declared.ToDictionary(o => o.Name, StringComparer.Ordinal)) : null;
    }

    /// <summary>
    /// With no known method to check against, each given option is still checked against a method that declares it,
    /// so that a request names every problem at once.
    /// </summary>
    public static void CheckWithoutMethod(IReadOnlyDictionary<string, JsonElement>? given, List<RequestProblem> problems)
    {
        foreach (var (name, json) in given ?? new Dictionary<string, JsonElement>())
        {
            var option = MergeMethods.All.SelectMany(MergeMethods.OptionsOf).FirstOrDefault(o => o.Name == name);
            if (option is null) problems.Add(new(At(name), RequestProblemCode.Unknown, $"options.{OptionSpec.Shown(name)}: no method has this option"));
            else if (json.ValueKind != JsonValueKind.Null && option.Parse(json, out var problem) is null)
                problems.Add(new(At(name), RequestProblemCode.Invalid, $"options.{name}: {problem}"));
        }
    }

    /// <summary>Options from a JSON object (for the command line and tests); every problem in one exception.</summary>
    public static MethodOptions FromJson(IMergeMethod method, string json)
    {
        var problems = new List<RequestProblem>();
        var options = Parse(method, JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json), problems);
        return options ?? throw new ArgumentException(string.Join("; ", problems));
    }

    /// <summary>The JSON Pointer of an option in a merge request.</summary>
    public static string At(string option) => RequestProblem.At("options", option);

    private static string Unknown(IMergeMethod method, string name)
    {
        var takers = MergeMethods.All.Where(m => m.Options.Any(o => o.Name == name)).Select(m => m.Name).ToList();
        return takers.Count == 0 ? "no method has this option" : $"{method.Name} does not take this option ({string.Join(", ", takers)} do)";
    }
}
