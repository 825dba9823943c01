using System.Text.Json;
using System.Text.RegularExpressions;
using AdaMerging.Domain.Checkpoints;
using Microsoft.ML.Tokenizers;

namespace AdaMerging.Domain.Text;

/// <summary>
/// GPT-2's byte-level BPE (vocab.json + merges.txt: the text split by GPT-2's pattern, each piece's UTF-8 bytes mapped
/// to printable characters and merged by rank), through Microsoft.ML.Tokenizers' BpeTokenizer in byte-level mode with
/// GPT-2's pattern as its pre-tokenizer (its CodeGenTokenizer is not GPT-2's: it adds CodeGen's tokens for runs of
/// spaces). GPT-2 adds no special tokens and cuts the text to the maximum; RoBERTa's wraps it as &lt;s&gt; text
/// &lt;/s&gt;, cut to max − 2 (docs/algorithm.md, "Tokenizers").
/// </summary>
public sealed class ByteLevelBpeTokenizer : ICausalTokenizer
{
    public const string VocabJson = "vocab.json", MergesFile = "merges.txt";

    /// <summary>GPT-2's pre-tokenizer (its encoder.py): contractions, letters, digits, other symbols, each after at most one space; spaces.</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    private static readonly Regex Pattern = new(Gpt2Pattern, RegexOptions.Compiled);

    private readonly BpeTokenizer _bpe;
    private readonly (int Begin, int End)? _wrap;

    private ByteLevelBpeTokenizer(BpeTokenizer bpe, (int, int)? wrap, int paddingId)
    {
        _bpe = bpe;
        _wrap = wrap;
        PaddingId = paddingId;
    }

    public int PaddingId { get; }

    public string Describe() => _wrap is null ? "byte-level BPE (GPT-2)" : "byte-level BPE (RoBERTa: <s> text </s>)";

    public int[] Encode(string text, int maxTokens)
    {
        var ids = _bpe.EncodeToIds(text);
        if (_wrap is not var (begin, end)) return [.. ids.Take(Math.Max(0, maxTokens))];
        return [begin, .. ids.Take(Math.Max(0, maxTokens - 2)), end];
    }

    public IReadOnlyList<int> Leading => _wrap is var (begin, _) ? [begin] : [];

    public int[] EncodePlain(string text) => [.. _bpe.EncodeToIds(text)];

    /// <summary>Whether the files hold a byte-level BPE vocabulary (vocab.json and merges.txt).</summary>
    public static bool Present(IReadOnlyDictionary<string, string> sideFiles) =>
        sideFiles.ContainsKey(VocabJson) && sideFiles.ContainsKey(MergesFile);

    /// <summary>
    /// The tokenizer the files describe, RoBERTa's (&lt;s&gt;, &lt;/s&gt; and &lt;pad&gt; from the vocabulary) when
    /// <paramref name="roberta"/>, else GPT-2's (padding with <paramref name="paddingId"/>, else &lt;|endoftext|&gt;, else 0:
    /// padding is masked, any id of the vocabulary serves). Throws <see cref="CheckpointFormatException"/> when the files do not parse.
    /// </summary>
    public static ByteLevelBpeTokenizer Open(IReadOnlyDictionary<string, string> sideFiles, bool roberta, int? paddingId = null)
    {
        try
        {
            var bpe = BpeTokenizer.Create(new BpeOptions(sideFiles[VocabJson], sideFiles[MergesFile])
            {
                ByteLevel = true,
                PreTokenizer = new RegexPreTokenizer(Pattern, null),
            });
            int Id(string token) => bpe.Vocabulary.TryGetValue(token, out var id) ? id : throw new CheckpointFormatException($"the BPE vocabulary has no '{token}'");
            return roberta
                ? new ByteLevelBpeTokenizer(bpe, (Id("<s>"), Id("</s>")), Id("<pad>"))
                : new ByteLevelBpeTokenizer(bpe, null, paddingId ?? (bpe.Vocabulary.TryGetValue("<|endoftext|>", out var end) ? end : 0));
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException or FormatException or KeyNotFoundException or IOException)
        {
            throw new CheckpointFormatException($"the byte-level BPE tokenizer's files do not parse: {e.Message}");
        }
    }
}
