using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using AdaMerging.Domain.Checkpoints;
using Microsoft.ML.Tokenizers;

namespace AdaMerging.Domain.Text;

/// <summary>
/// A byte-level BPE as Hugging Face's tokenizers library saves it in tokenizer.json (Llama 3, Qwen2, Mistral's newer
/// releases; docs/algorithm.md, "Tokenizers"): the normaliser (none, or NFC), the pre-tokeniser's Split pattern (the
/// file's own regular expression, each match a piece) before byte-level mapping, BPE by the file's merges, and the
/// post-processor's special tokens around the text (TemplateProcessing's single sequence), the text cut so that the
/// whole fits the maximum, as Hugging Face's truncation does. What else a tokenizer.json can hold (SentencePiece-style
/// Metaspace with byte fallback, WordPiece, Unigram, other normalisers) is refused naming it.
/// </summary>
public sealed class TokenizerJsonBpe : ICausalTokenizer
{
    public const string FileName = "tokenizer.json";

    private readonly BpeTokenizer _bpe;
    private readonly bool _nfc;
    private readonly int[] _before;
    private readonly int[] _after;

    private TokenizerJsonBpe(BpeTokenizer bpe, bool nfc, int[] before, int[] after, int paddingId)
    {
        (_bpe, _nfc, _before, _after, PaddingId) = (bpe, nfc, before, after, paddingId);
    }

    public int PaddingId { get; }

    public string Describe() => $"byte-level BPE from tokenizer.json{(_nfc ? ", NFC" : "")}{(_before.Length + _after.Length > 0 ? $", {_before.Length + _after.Length} special token(s) added" : "")}";

    public int[] Encode(string text, int maxTokens) =>
        [.. _before, .. EncodePlain(text).Take(Math.Max(0, maxTokens - _before.Length - _after.Length)), .. _after];

    public IReadOnlyList<int> Leading => _before;

    public int[] EncodePlain(string text) => [.. _bpe.EncodeToIds(_nfc ? text.Normalize(NormalizationForm.FormC) : text)];

    /// <summary>Whether the files hold a tokenizer.json.</summary>
    public static bool Present(IReadOnlyDictionary<string, string> sideFiles) => sideFiles.ContainsKey(FileName);

    /// <summary>The tokenizer tokenizer.json describes, padding with <paramref name="paddingId"/> (else 0: padding is masked); throws <see cref="CheckpointFormatException"/> naming what it does not read.</summary>
    public static TokenizerJsonBpe Open(IReadOnlyDictionary<string, string> sideFiles, int? paddingId = null)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(sideFiles[FileName]));
            var root = document.RootElement;
            var model = root.GetProperty("model");
            string type = model.TryGetProperty("type", out var t) ? t.GetString() ?? "" : "";
            if (type != "BPE") throw new CheckpointFormatException($"tokenizer.json's model is {type}, not the byte-level BPE this service reads");
            if (model.TryGetProperty("byte_fallback", out var fallback) && fallback.ValueKind == JsonValueKind.True)
                throw new CheckpointFormatException("tokenizer.json is a SentencePiece-style BPE (byte_fallback): upload its tokenizer.model beside it, which this service reads");
            var vocabulary = model.GetProperty("vocab").EnumerateObject().Select(p => new KeyValuePair<string, int>(p.Name, p.Value.GetInt32())).ToList();
            var merges = model.GetProperty("merges").EnumerateArray()
                .Select(m => m.ValueKind == JsonValueKind.Array ? $"{m[0].GetString()} {m[1].GetString()}" : m.GetString()!).ToList();
            var specials = root.TryGetProperty("added_tokens", out var added)
                ? added.EnumerateArray().ToDictionary(a => a.GetProperty("content").GetString()!, a => a.GetProperty("id").GetInt32(), StringComparer.Ordinal)
                : [];
            var bpe = BpeTokenizer.Create(new BpeOptions(vocabulary)
            {
                Merges = merges,
                ByteLevel = true,
                PreTokenizer = new RegexPreTokenizer(new Regex(SplitPattern(root), RegexOptions.Compiled), specials.Count == 0 ? null : specials),
                SpecialTokens = specials.Count == 0 ? null : specials,
            });
            var (before, after) = Template(root, specials);
            return new TokenizerJsonBpe(bpe, Normalised(root), before, after, paddingId ?? 0);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException or FormatException or KeyNotFoundException or IOException)
        {
            throw new CheckpointFormatException($"tokenizer.json does not parse as a byte-level BPE: {e.Message}");
        }
    }

    /// <summary>The pre-tokeniser's pattern: a Split's regular expression before a ByteLevel without its own, or ByteLevel's (GPT-2's) alone.</summary>
    private static string SplitPattern(JsonElement root)
    {
        var pre = root.GetProperty("pre_tokenizer");
        var steps = pre.GetProperty("type").GetString() == "Sequence" ? [.. pre.GetProperty("pretokenizers").EnumerateArray()] : new[] { pre };
        string? pattern = null;
        foreach (var step in steps)
        {
            string kind = step.GetProperty("type").GetString() ?? "";
            if (kind == "Split" && step.GetProperty("pattern").TryGetProperty("Regex", out var regex)
                && step.GetProperty("behavior").GetString() == "Isolated" && !(step.TryGetProperty("invert", out var invert) && invert.GetBoolean()))
                pattern = regex.GetString();
            else if (kind == "ByteLevel" && !(step.TryGetProperty("add_prefix_space", out var prefix) && prefix.GetBoolean()))
                pattern ??= step.TryGetProperty("use_regex", out var use) && !use.GetBoolean() ? null : ByteLevelBpeTokenizer.Gpt2Pattern;
            else
                throw new CheckpointFormatException($"tokenizer.json's pre-tokenizer step {kind} is not one this service reads (an isolating Split, ByteLevel)");
        }
        return pattern ?? throw new CheckpointFormatException("tokenizer.json's pre-tokenizer splits the text nowhere");
    }

    private static bool Normalised(JsonElement root)
    {
        if (!root.TryGetProperty("normalizer", out var normalizer) || normalizer.ValueKind == JsonValueKind.Null) return false;
        string kind = normalizer.GetProperty("type").GetString() ?? "";
        return kind == "NFC" ? true : throw new CheckpointFormatException($"tokenizer.json's normalizer {kind} is not one this service reads (none, NFC)");
    }

    /// <summary>The special tokens TemplateProcessing puts before and after a single text; none for another post-processor.</summary>
    private static (int[] Before, int[] After) Template(JsonElement root, Dictionary<string, int> specials)
    {
        if (!root.TryGetProperty("post_processor", out var post) || post.ValueKind == JsonValueKind.Null) return ([], []);
        var processors = post.GetProperty("type").GetString() == "Sequence" ? [.. post.GetProperty("processors").EnumerateArray()] : new[] { post };
        var template = processors.FirstOrDefault(p => p.GetProperty("type").GetString() == "TemplateProcessing");
        if (template.ValueKind == JsonValueKind.Undefined) return ([], []);
        List<int> before = [], after = [];
        bool seen = false;
        foreach (var piece in template.GetProperty("single").EnumerateArray())
        {
            if (piece.TryGetProperty("Sequence", out _)) seen = true;
            else if (piece.TryGetProperty("SpecialToken", out var special))
                (seen ? after : before).Add(specials.TryGetValue(special.GetProperty("id").GetString()!, out var id) ? id
                    : throw new CheckpointFormatException($"tokenizer.json's template names '{special.GetProperty("id").GetString()}', which is not among its added tokens"));
        }
        return ([.. before], [.. after]);
    }
}
