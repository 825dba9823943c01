using System.Text.Json;
using System.Text.RegularExpressions;

namespace AdaMerging.Domain.Methods.Options;

/// <summary>A list of regular expressions (at most 100, each 1-500 characters), empty by default.</summary>
public sealed class PatternListOption(string name, string help) : OptionSpec<IReadOnlyList<string>>(name, help, [])
{
    private const int MaxPatterns = 100, MaxLength = 500;

    public override OptionKind Kind => OptionKind.PatternList;

    public override object? Parse(JsonElement json, out string? problem)
    {
        problem = null;
        if (json.ValueKind != JsonValueKind.Array) problem = "must be a list of regular expressions";
        else if (json.GetArrayLength() > MaxPatterns) problem = $"{json.GetArrayLength()} patterns exceed the limit of {MaxPatterns}";
        else
        {
            var patterns = new List<string>();
            var problems = new List<string>();
            foreach (var item in json.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.String || item.GetString() is not { Length: > 0 and <= MaxLength } pattern)
                {
                    problems.Add($"'{Shown(item)}' is not a pattern of 1-{MaxLength} characters");
                    continue;
                }
                if (RegexProblem(pattern) is { } bad) problems.Add($"'{pattern}' is not a regular expression ({bad})");
                patterns.Add(pattern);
            }
            if (problems.Count == 0) return patterns;
            problem = string.Join("; ", problems);
        }
        return null;
    }

    private static string? RegexProblem(string pattern)
    {
        try
        {
            _ = new Regex(pattern, RegexOptions.None, TimeSpan.FromSeconds(1));
            return null;
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
    }
}
