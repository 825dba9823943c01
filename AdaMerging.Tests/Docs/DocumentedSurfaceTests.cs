using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Infrastructure.Options;
using AdaMerging.Tests.Support;

namespace AdaMerging.Tests.Docs;

/// <summary>
/// README.md and docs/ say only what the code does (issue 33): every setting the options declare is in the README's
/// configuration table with its default, and every route the documents name is an operation of the OpenAPI document.
/// </summary>
public sealed partial class DocumentedSurfaceTests
{
    /// <summary>Served outside the OpenAPI document: health, the document itself, the web page, the dashboards, metrics.</summary>
    private static readonly string[] OutsideTheDocument = ["/health", "/swagger", "/ui", "/hangfire", "/metrics"];

    private static readonly string[] Documents = ["README.md", .. Directory.GetFiles(Path.Combine(Repository.Root(), "docs"), "*.md").Select(f => Path.Combine("docs", Path.GetFileName(f)))];

    [GeneratedRegex(@"^\| `(?<name>(AdaMerging|ConnectionStrings):[A-Za-z:]+)` \| (?<default>[^|]*) \|", RegexOptions.Multiline)]
    private static partial Regex SettingRow();

    [GeneratedRegex(@"`(?:(?<method>GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) )?(?<path>/[a-z][^`\s?]*)[^`]*`")]
    private static partial Regex RouteMention();

    private static IEnumerable<(string Name, object? Default)> Settings(Type options, string prefix) =>
        options.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite)
            .Select(p => ($"{prefix}:{p.Name}", p.GetValue(Activator.CreateInstance(options))));

    [Fact]
    public void The_README_configuration_table_lists_every_setting_with_its_default_and_nothing_else()
    {
        var rows = SettingRow().Matches(File.ReadAllText(Path.Combine(Repository.Root(), "README.md")))
            .ToDictionary(m => m.Groups["name"].Value, m => m.Groups["default"].Value.Trim());
        var code = Settings(typeof(AdaMergingOptions), AdaMergingOptions.Section)
            .Concat(Settings(typeof(UploadLimits), $"{AdaMergingOptions.Section}:Limits"))
            .Append((Name: "ConnectionStrings:Postgres", Default: (object?)null)).ToList();
        Assert.Equal(code.Select(s => s.Name).Order(StringComparer.Ordinal), rows.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, value) in code)
        {
            // A default written as one literal (`0`, `gpu`, `false`) is the code's; prose defaults ("the machine's name", "20 GiB") are read by people.
            if (Regex.Match(rows[name], "^`([^`]*)`").Groups[1] is { Success: true } literal && value is not (null or System.Collections.IEnumerable and not string))
                Assert.True(string.Equals(literal.Value, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture), StringComparison.OrdinalIgnoreCase),
                    $"{name}: the README says {literal.Value}, the code {value}");
        }
    }

    [Fact]
    public void Every_route_the_documents_name_is_an_operation_of_the_OpenAPI_document()
    {
        var paths = JsonDocument.Parse(File.ReadAllText(Path.Combine(Repository.Root(), "docs", "openapi.json"))).RootElement.GetProperty("paths")
            .EnumerateObject().Select(p => (Segments: p.Name.Split('/'), Methods: p.Value.EnumerateObject().Select(o => o.Name.ToUpperInvariant()).ToHashSet())).ToList();
        var unknown = new List<string>();
        foreach (var document in Documents)
            foreach (Match mention in RouteMention().Matches(File.ReadAllText(Path.Combine(Repository.Root(), document))))
            {
                var path = mention.Groups["path"].Value.TrimEnd('.', ',');
                var method = mention.Groups["method"].Value;
                if (OutsideTheDocument.Any(p => path.StartsWith(p, StringComparison.Ordinal)) || !IsApiPath(path)) continue;
                var segments = path.TrimEnd('/').Split('/');
                var found = paths.Any(p => p.Segments.Length == segments.Length
                    && p.Segments.Zip(segments).All(s => s.First == s.Second || s.First.StartsWith('{') || s.Second == "…")
                    && (method.Length == 0 || p.Methods.Contains(method)));
                if (!found) unknown.Add($"{document}: {mention.Value}");
            }
        Assert.True(unknown.Count == 0, "named in the documents but not an operation: " + string.Join("; ", unknown));
    }

    /// <summary>A path under one of the API's resources (file paths in the documents, /usr/bin/…, are not routes).</summary>
    private static bool IsApiPath(string path) =>
        new[] { "checkpoints", "heads", "datasets", "merges", "experiments", "uploads", "keys", "webhooks", "downloads" }.Contains(path.Split('/')[1]);
}
