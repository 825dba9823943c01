using System.Globalization;
using System.Text;
using System.Text.Json;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Datasets;

namespace AdaMerging.Domain.Text;

/// <summary>
/// A text dataset: JSON Lines (one object per line, <c>{"text": …, "label": …}</c>) or CSV (a header naming
/// <c>text</c> and optionally <c>label</c>, RFC 4180 quoting). Labels are optional (adaptation data needs none), all
/// whole numbers ≥ 0 or all names (then classes in ordinal order of their names, as image folders are); every example
/// has one or none has (docs/api.md, "Datasets").
/// </summary>
public static class TextDataset
{
    public const string TextField = "text", LabelField = "label";

    /// <summary>What a text dataset holds, every example read and checked (UTF-8, one text each, labels all or none).</summary>
    public static DatasetInfo Inspect(string path, UploadLimits limits)
    {
        var (format, texts, labels, classes) = Read(path, limits);
        int? max = labels is null ? null : (int)labels.Max();   // never empty: a dataset without examples is refused
        if (max >= limits.MaxClasses) throw new CheckpointFormatException($"label {max} is over the limit of {limits.MaxClasses} classes");
        return new DatasetInfo(format, texts.Count, 0, null, null, labels is not null, max, classes, DatasetModality.Text);
    }

    /// <summary>The texts, and their labels (class indices) when they have them.</summary>
    public static (IReadOnlyList<string> Texts, long[]? Labels) Load(string path)
    {
        var (_, texts, labels, _) = Read(path, new UploadLimits());
        return (texts, labels);
    }

    private static (DatasetFormat Format, List<string> Texts, long[]? Labels, IReadOnlyList<string>? Classes) Read(string path, UploadLimits limits)
    {
        string content;
        try
        {
            content = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(File.ReadAllBytes(path));
        }
        catch (DecoderFallbackException)
        {
            throw new CheckpointFormatException("the dataset is not a safetensors file, a zip archive, nor UTF-8 text (JSON Lines or CSV)");
        }
        if (content.Length > 0 && content[0] == '\uFEFF') content = content[1..];
        var format = content.TrimStart().StartsWith('{') ? DatasetFormat.JsonLines : DatasetFormat.Csv;
        var rows = format == DatasetFormat.JsonLines ? JsonLines(content) : CsvRows(content);
        var problems = new List<string>();
        var texts = new List<string>();
        var labels = new List<(int Line, string? Name, long? Index)>();
        foreach (var (line, text, label, problem) in rows)
        {
            if (problem is not null) problems.Add($"line {line}: {problem}");
            else if (text is null) problems.Add($"line {line}: no '{TextField}'");
            else if (text.Length > limits.MaxTextCharacters)
                problems.Add($"line {line}: the text has {text.Length} characters, over the limit of {limits.MaxTextCharacters}");
            else
            {
                texts.Add(text);
                labels.Add((line, label.Name, label.Index));
            }
            if (texts.Count > limits.MaxTextExamples) throw new CheckpointFormatException($"the dataset has more than {limits.MaxTextExamples} examples");
            if (problems.Count > 5) break;
        }
        if (problems.Count == 0 && texts.Count == 0) problems.Add($"the dataset has no examples ({(format == DatasetFormat.JsonLines ? "JSON Lines" : "CSV")})");
        var (indices, classes) = problems.Count == 0 ? Labels(labels, problems) : (null, null);
        if (problems.Count > 0) throw new CheckpointFormatException($"the text dataset ({(format == DatasetFormat.JsonLines ? "JSON Lines" : "CSV")}) is invalid: {string.Join("; ", problems.Take(5))}");
        return (format, texts, indices, classes);
    }

    /// <summary>Class indices: whole numbers as they are, names by ordinal rank; null when no example has a label.</summary>
    private static (long[]? Indices, IReadOnlyList<string>? Classes) Labels(List<(int Line, string? Name, long? Index)> labels, List<string> problems)
    {
        int named = labels.Count(l => l.Name is not null), numbered = labels.Count(l => l.Index is not null);
        if (named == 0 && numbered == 0) return (null, null);
        if (named + numbered < labels.Count)
            problems.Add($"line {labels.First(l => l.Name is null && l.Index is null).Line}: no '{LabelField}' where other examples have one (label all or none)");
        else if (named > 0 && numbered > 0)
            problems.Add($"line {labels.First(l => l.Index is not null).Line}: labels mix whole numbers and names");
        if (problems.Count > 0) return (null, null);
        if (numbered > 0) return ([.. labels.Select(l => l.Index!.Value)], null);
        var classes = labels.Select(l => l.Name!).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var index = classes.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => (long)x.i, StringComparer.Ordinal);
        return ([.. labels.Select(l => index[l.Name!])], classes);
    }

    private static IEnumerable<(int Line, string? Text, (string? Name, long? Index) Label, string? Problem)> JsonLines(string content)
    {
        int line = 0;
        foreach (var raw in content.Split('\n'))
        {
            line++;
            if (string.IsNullOrWhiteSpace(raw)) continue;
            string? text = null, problem = null;
            (string?, long?) label = (null, null);
            try
            {
                using var document = JsonDocument.Parse(raw);
                var root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object) problem = "not a JSON object";
                else
                {
                    if (root.TryGetProperty(TextField, out var t))
                    {
                        if (t.ValueKind == JsonValueKind.String) text = t.GetString();
                        else problem = $"'{TextField}' is not a string";
                    }
                    if (root.TryGetProperty(LabelField, out var l) && l.ValueKind != JsonValueKind.Null)
                        label = ParseLabel(l.ValueKind == JsonValueKind.String ? l.GetString()! : l.GetRawText(), l.ValueKind == JsonValueKind.Number, ref problem);
                }
            }
            catch (JsonException e)
            {
                problem = $"not JSON ({e.Message})";
            }
            yield return (line, text, label, problem);
        }
    }

    /// <summary>A label: a JSON number (or, in CSV, a field of digits) as a class index, anything else as a class name.</summary>
    private static (string?, long?) ParseLabel(string value, bool number, ref string? problem)
    {
        if (number || (value.Length > 0 && value.All(char.IsAsciiDigit)))
        {
            if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var index)) return (null, index);
            problem ??= $"label {value} is not a whole number ≥ 0";
            return (null, null);
        }
        if (value.Length == 0) return (null, null);
        if (value.Length > 200) problem ??= "a label name is longer than 200 characters";
        return (value, null);
    }

    private static IEnumerable<(int Line, string? Text, (string? Name, long? Index) Label, string? Problem)> CsvRows(string content)
    {
        using var rows = Csv.Records(content).GetEnumerator();
        if (!rows.MoveNext()) yield break;
        var header = rows.Current.Fields.Select(f => f.Trim()).ToList();
        int text = header.IndexOf(TextField), label = header.IndexOf(LabelField);
        if (text < 0)
        {
            yield return (1, null, (null, null), $"the CSV header ({string.Join(",", header.Take(10))}) has no '{TextField}' column");
            yield break;
        }
        while (rows.MoveNext())
        {
            var (line, fields, problem) = rows.Current;
            if (fields.Count == 1 && fields[0].Length == 0 && problem is null) continue;   // a blank line
            if (problem is null && fields.Count != header.Count) problem = $"{fields.Count} fields where the header has {header.Count}";
            (string?, long?) parsed = (null, null);
            if (problem is null && label >= 0) parsed = ParseLabel(fields[label].Trim(), false, ref problem);
            yield return (line, problem is null ? fields[text] : null, parsed, problem);
        }
    }
}
