namespace AdaMerging.Worker.Cli;

/// <summary>`--name value` pairs (a name may repeat) and positional arguments.</summary>
public sealed class CommandOptions
{
    private readonly Dictionary<string, List<string>> _named = new(StringComparer.Ordinal);

    public List<string> Positional { get; } = [];

    public static CommandOptions Parse(IEnumerable<string> args)
    {
        var options = new CommandOptions();
        using var e = args.GetEnumerator();
        while (e.MoveNext())
        {
            if (!e.Current.StartsWith("--", StringComparison.Ordinal))
            {
                options.Positional.Add(e.Current);
                continue;
            }
            var name = e.Current[2..];
            if (!e.MoveNext()) throw new ArgumentException($"--{name} needs a value");
            if (!options._named.TryGetValue(name, out var values)) options._named[name] = values = [];
            values.Add(e.Current);
        }
        return options;
    }

    public IReadOnlyList<string> All(string name) => _named.GetValueOrDefault(name) ?? [];

    public string One(string name, string fallback) => All(name) switch
    {
        [] => fallback,
        [var only] => only,
        _ => throw new ArgumentException($"--{name} given more than once"),
    };

    public string Required(string name) => All(name) switch
    {
        [var only] => only,
        [] => throw new ArgumentException($"--{name} is required"),
        _ => throw new ArgumentException($"--{name} given more than once"),
    };
}
