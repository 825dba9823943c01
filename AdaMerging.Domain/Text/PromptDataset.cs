using System.Text;
using System.Text.Json;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Datasets;

namespace AdaMerging.Domain.Text;

/// <summary>One language-model example: a prompt, and the completion it is scored on (evaluation data only).</summary>
public sealed record PromptExample(string Prompt, string? Completion);

/// <summary>
/// A language-model dataset (docs/api.md, "Datasets"): UTF-8 JSON Lines, one <c>{"prompt": …}</c> object per line
/// (adaptation data: the prompts' next-token distributions are what AdaMerging adapts on) or <c>{"prompt": …,
/// "completion": …}</c> (evaluation data: the completion's likelihood given the prompt, and whether greedy decoding
/// reproduces it). Every example has a completion or none has; a completion is never empty (nothing would be scored).
/// Recognised by its first object's <c>prompt</c> field, so a text dataset (<c>text</c>, <c>label</c>) is never read as one.
/// </summary>
public static class PromptDataset
{
    public const string PromptField = "prompt", CompletionField = "completion";

    /// <summary>Whether the file is JSON Lines whose first object has a prompt (read no further than its first line).</summary>
    public static bool Is(string path)
    {
        using var reader = new StreamReader(path, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true);
        for (string? line; (line = reader.ReadLine()) is not null;)
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                using var document = JsonDocument.Parse(line);
                return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty(PromptField, out _);
            }
            catch (JsonException)
            {
                return false;
            }
        }
        return false;
    }

    /// <summary>What the dataset holds, every line read and checked: its examples, and whether they have completions (<see cref="DatasetInfo.HasLabels"/>).</summary>
    public static DatasetInfo Inspect(string path, UploadLimits limits)
    {
        var examples = Read(path, limits);
        return new DatasetInfo(DatasetFormat.JsonLines, examples.Count, 0, null, null, examples[0].Completion is not null, null, null, DatasetModality.Prompts);
    }

    /// <summary>The examples, in the file's order.</summary>
    public static IReadOnlyList<PromptExample> Load(string path) => Read(path, new UploadLimits());

    private static List<PromptExample> Read(string path, UploadLimits limits)
    {
        string content;
        try
        {
            content = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(File.ReadAllBytes(path));
        }
        catch (DecoderFallbackException)
        {
            throw new CheckpointFormatException("the prompt dataset is not UTF-8 text");
        }
        if (content.Length > 0 && content[0] == '\uFEFF') content = content[1..];
        var problems = new List<string>();
        var examples = new List<(int Line, PromptExample Example)>();
        int line = 0;
        foreach (var raw in content.Split('\n'))
        {
            line++;
            if (string.IsNullOrWhiteSpace(raw)) continue;
            var (example, problem) = Parse(raw, limits);
            if (problem is not null) problems.Add($"line {line}: {problem}");
            else examples.Add((line, example!));
            if (examples.Count > limits.MaxTextExamples) throw new CheckpointFormatException($"the dataset has more than {limits.MaxTextExamples} examples");
            if (problems.Count > 5) break;
        }
        if (problems.Count == 0 && examples.Count == 0) problems.Add("the dataset has no examples");
        if (problems.Count == 0 && examples.Any(e => e.Example.Completion is null) && examples.Any(e => e.Example.Completion is not null))
        {
            bool firstHas = examples[0].Example.Completion is not null;
            var odd = examples.First(e => (e.Example.Completion is not null) != firstHas);
            problems.Add($"line {odd.Line}: {(firstHas ? "no" : "a")} '{CompletionField}' where line {examples[0].Line} has {(firstHas ? "one" : "none")} (completions all or none)");
        }
        if (problems.Count > 0) throw new CheckpointFormatException($"the prompt dataset (JSON Lines) is invalid: {string.Join("; ", problems.Take(5))}");
        return [.. examples.Select(e => e.Example)];
    }

    private static (PromptExample? Example, string? Problem) Parse(string raw, UploadLimits limits)
    {
        try
        {
            using var document = JsonDocument.Parse(raw);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return (null, "not a JSON object");
            if (!root.TryGetProperty(PromptField, out var p)) return (null, $"no '{PromptField}'");
            if (p.ValueKind != JsonValueKind.String) return (null, $"'{PromptField}' is not a string");
            string prompt = p.GetString()!;
            string? completion = null;
            if (root.TryGetProperty(CompletionField, out var c) && c.ValueKind != JsonValueKind.Null)
            {
                if (c.ValueKind != JsonValueKind.String) return (null, $"'{CompletionField}' is not a string");
                completion = c.GetString()!;
                if (completion.Length == 0) return (null, $"the '{CompletionField}' is empty (nothing would be scored)");
            }
            int characters = prompt.Length + (completion?.Length ?? 0);
            if (characters > limits.MaxTextCharacters)
                return (null, $"the example has {characters} characters, over the limit of {limits.MaxTextCharacters}");
            return (new PromptExample(prompt, completion), null);
        }
        catch (JsonException e)
        {
            return (null, $"not JSON ({e.Message})");
        }
    }
}
