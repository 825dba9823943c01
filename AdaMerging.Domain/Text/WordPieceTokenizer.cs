using System.Text;
using System.Text.Json;
using AdaMerging.Domain.Checkpoints;
using Microsoft.ML.Tokenizers;

namespace AdaMerging.Domain.Text;

/// <summary>
/// BERT's WordPiece tokenizer (Hugging Face's BertTokenizer: clean, split CJK characters, lower-case and strip accents
/// as tokenizer_config.json says, split on whitespace and punctuation, then greedy longest-match WordPiece), through
/// Microsoft.ML.Tokenizers' BertTokenizer; [CLS] text [SEP], the text cut to max − 2 tokens (docs/algorithm.md, "Tokenizers").
/// </summary>
public sealed class WordPieceTokenizer : ITextTokenizer
{
    public const string VocabFile = "vocab.txt", TokenizerJson = "tokenizer.json", ConfigFile = "tokenizer_config.json";

    private readonly BertTokenizer _tokenizer;
    private readonly bool _lowerCase, _stripAccents, _splitCjk;

    private WordPieceTokenizer(BertTokenizer tokenizer, bool lowerCase, bool stripAccents, bool splitCjk)
    {
        _tokenizer = tokenizer;
        _lowerCase = lowerCase;
        _stripAccents = stripAccents;
        _splitCjk = splitCjk;
    }

    public int PaddingId => _tokenizer.PaddingTokenId;

    public string Describe() => $"WordPiece ({(_lowerCase ? "uncased" : "cased")})";

    public int[] Encode(string text, int maxTokens)
    {
        // Basic tokenization here (BertBasicTokenization says why); the library splits on the spaces it leaves and applies WordPiece.
        var words = BertBasicTokenization.Apply(text, _lowerCase, _stripAccents, _splitCjk);
        var ids = _tokenizer.EncodeToIds(words, addSpecialTokens: false, considerPreTokenization: true, considerNormalization: true);
        int kept = Math.Min(ids.Count, Math.Max(0, maxTokens - 2));
        var result = new int[kept + 2];
        result[0] = _tokenizer.ClassificationTokenId;
        for (int i = 0; i < kept; i++) result[i + 1] = ids[i];
        result[^1] = _tokenizer.SeparatorTokenId;
        return result;
    }

    /// <summary>Whether the files hold a WordPiece vocabulary (vocab.txt, or tokenizer.json with a WordPiece model).</summary>
    public static bool Present(IReadOnlyDictionary<string, string> sideFiles) =>
        sideFiles.ContainsKey(VocabFile) || (sideFiles.TryGetValue(TokenizerJson, out var json) && ModelType(json) == "WordPiece");

    /// <summary>The tokenizer the files describe; throws <see cref="CheckpointFormatException"/> when they do not parse.</summary>
    public static WordPieceTokenizer Open(IReadOnlyDictionary<string, string> sideFiles)
    {
        try
        {
            var (lower, strip, cjk) = Options(sideFiles);
            using var vocabulary = sideFiles.TryGetValue(VocabFile, out var vocab) ? (Stream)File.OpenRead(vocab) : VocabularyOf(sideFiles[TokenizerJson]);
            // The library's own basic tokenization off: only its whitespace split and WordPiece run on the words made here.
            var options = new BertOptions { LowerCaseBeforeTokenization = false, RemoveNonSpacingMarks = false, IndividuallyTokenizeCjk = false, ApplyBasicTokenization = false };
            return new WordPieceTokenizer(BertTokenizer.Create(vocabulary, options), lower, strip, cjk);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException or FormatException or KeyNotFoundException or IOException)
        {
            throw new CheckpointFormatException($"the WordPiece tokenizer's files do not parse: {e.Message}");
        }
    }

    /// <summary>
    /// Lower-casing and accent stripping as tokenizer_config.json says (Hugging Face: do_lower_case, default true;
    /// strip_accents, default: as lower-casing), else as tokenizer.json's BertNormalizer says.
    /// </summary>
    private static (bool LowerCase, bool StripAccents, bool SplitCjk) Options(IReadOnlyDictionary<string, string> sideFiles)
    {
        static bool? Flag(JsonElement e, string name) =>
            e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;
        if (sideFiles.TryGetValue(ConfigFile, out var configPath))
        {
            using var config = JsonDocument.Parse(File.ReadAllText(configPath));
            var root = config.RootElement;
            bool lower = Flag(root, "do_lower_case") ?? true;
            return (lower, Flag(root, "strip_accents") ?? lower, Flag(root, "tokenize_chinese_chars") ?? true);
        }
        if (sideFiles.TryGetValue(TokenizerJson, out var jsonPath))
        {
            using var tokenizer = JsonDocument.Parse(File.ReadAllText(jsonPath));
            var normalizer = tokenizer.RootElement.TryGetProperty("normalizer", out var n) ? n : default;
            bool lower = Flag(normalizer, "lowercase") ?? true;
            return (lower, Flag(normalizer, "strip_accents") ?? lower, Flag(normalizer, "handle_chinese_chars") ?? true);
        }
        return (true, true, true);
    }

    private static string? ModelType(string tokenizerJson)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(tokenizerJson));
            return document.RootElement.TryGetProperty("model", out var m) && m.TryGetProperty("type", out var t) ? t.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>tokenizer.json's WordPiece vocabulary as vocab.txt would hold it: one token per line, in id order.</summary>
    private static MemoryStream VocabularyOf(string tokenizerJson)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(tokenizerJson));
        var tokens = document.RootElement.GetProperty("model").GetProperty("vocab").EnumerateObject()
            .Select(p => (Token: p.Name, Id: p.Value.GetInt32())).OrderBy(p => p.Id).ToList();
        if (tokens.Where((t, i) => t.Id != i).Any()) throw new FormatException("tokenizer.json's vocabulary ids are not 0 … n − 1");
        return new MemoryStream(Encoding.UTF8.GetBytes(string.Join('\n', tokens.Select(t => t.Token)) + "\n"));
    }
}
