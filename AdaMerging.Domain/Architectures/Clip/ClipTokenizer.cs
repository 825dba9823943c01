using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Text;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Heads;
using Microsoft.ML.Tokenizers;

namespace AdaMerging.Domain.Architectures.Clip;

/// <summary>
/// CLIP's tokenizer from a checkpoint's own files (docs/algorithm.md, "Zero-shot heads"): the text cleaned up, split by
/// CLIP's pre-tokenisation pattern, each piece's UTF-8 bytes mapped to printable characters, merged by byte-level BPE
/// with the &lt;/w&gt; end-of-word marker (Microsoft.ML.Tokenizers' BpeTokenizer), between start- and end-of-text.
/// </summary>
public sealed partial class ClipTokenizer
{
    public const string StartOfText = "<|startoftext|>";
    public const string EndOfText = "<|endoftext|>";

    /// <summary>Hugging Face's files.</summary>
    public const string VocabularyFile = "vocab.json", MergesFile = "merges.txt";

    /// <summary>open_clip's (and OpenAI's) file: a header line, then merges.</summary>
    public const string OpenClipFile = "bpe_simple_vocab_16e6.txt.gz";

    /// <summary>open_clip's file holds more merges than CLIP uses: it takes the first 49152 − 256 − 2.</summary>
    public const int OpenClipMergeCount = 49152 - 256 - 2;

    private const string EndOfWord = "</w>";
    private static readonly (string[] ByByte, string[] InVocabularyOrder) Bytes = ByteMap();

    private readonly BpeTokenizer _bpe;

    private ClipTokenizer(BpeTokenizer bpe, int startId, int endId, int vocabularySize)
    {
        _bpe = bpe;
        StartId = startId;
        EndId = endId;
        VocabularySize = vocabularySize;
    }

    public int StartId { get; }

    public int EndId { get; }

    public int VocabularySize { get; }

    /// <summary>The tokenizer files a checkpoint may carry; null when it has none.</summary>
    public static ClipTokenizer? FromFiles(IReadOnlyDictionary<string, string> files)
    {
        if (files.TryGetValue(VocabularyFile, out var vocab) && files.TryGetValue(MergesFile, out var merges)) return FromHuggingFace(vocab, merges);
        return files.TryGetValue(OpenClipFile, out var openClip) ? FromOpenClip(openClip) : null;
    }

    public static ClipTokenizer FromHuggingFace(string vocabularyPath, string mergesPath)
    {
        Dictionary<string, int>? vocabulary;
        try
        {
            vocabulary = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(vocabularyPath));
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException($"{VocabularyFile} is not a JSON object of token → id: {e.Message}");
        }
        var merges = File.ReadLines(mergesPath).Where(l => l.Length > 0 && !l.StartsWith("#version", StringComparison.Ordinal)).ToList();
        return Create(vocabulary ?? [], merges);
    }

    public static ClipTokenizer FromOpenClip(string path)
    {
        List<string> lines;
        try
        {
            using var reader = new StreamReader(new GZipStream(File.OpenRead(path), CompressionMode.Decompress), Encoding.UTF8);
            lines = reader.ReadToEnd().Split('\n').ToList();
        }
        catch (InvalidDataException e)
        {
            throw new CheckpointFormatException($"{OpenClipFile} is not gzip: {e.Message}");
        }
        var merges = lines.Skip(1).Take(OpenClipMergeCount).Where(l => l.Length > 0).ToList();
        // open_clip builds the vocabulary from the merges: bytes, bytes ending a word, each merge's result, then the specials.
        var tokens = Bytes.InVocabularyOrder.Concat(Bytes.InVocabularyOrder.Select(c => c + EndOfWord)).Concat(merges.Select(m => m.Replace(" ", "", StringComparison.Ordinal)))
            .Append(StartOfText).Append(EndOfText);
        var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var token in tokens) vocabulary.TryAdd(token, vocabulary.Count);
        return Create(vocabulary, merges);
    }

    /// <summary>Token ids of <paramref name="text"/> with start- and end-of-text; longer than <paramref name="context"/> is an error, never cut.</summary>
    public IReadOnlyList<int> Encode(string text, int context)
    {
        var ids = new List<int> { StartId };
        foreach (Match piece in PreToken().Matches(Clean(text)))
        {
            if (piece.Value == StartOfText) ids.Add(StartId);
            else if (piece.Value == EndOfText) ids.Add(EndId);
            else ids.AddRange(_bpe.EncodeToIds(ToByteCharacters(piece.Value), considerPreTokenization: false, considerNormalization: false));
        }
        ids.Add(EndId);
        return ids.Count <= context ? ids : throw new TextTooLongException(text, ids.Count, context);
    }

    /// <summary>
    /// OpenAI's clean-up without ftfy (docs/algorithm.md): HTML entities decoded twice, Unicode NFC, runs of whitespace to
    /// one space, trimmed, lower case.
    /// </summary>
    public static string Clean(string text)
    {
        var decoded = WebUtility.HtmlDecode(WebUtility.HtmlDecode(text)).Normalize(NormalizationForm.FormC).Trim();
        return Whitespace().Replace(decoded, " ").Trim().ToLowerInvariant();
    }

    private static ClipTokenizer Create(Dictionary<string, int> vocabulary, List<string> merges)
    {
        var problems = new List<string>();
        if (!vocabulary.TryGetValue(StartOfText, out var start)) problems.Add($"the vocabulary lacks {StartOfText}");
        if (!vocabulary.TryGetValue(EndOfText, out var end)) problems.Add($"the vocabulary lacks {EndOfText}");
        var missing = Bytes.ByByte.Concat(Bytes.ByByte.Select(c => c + EndOfWord)).Where(c => !vocabulary.ContainsKey(c)).Take(3).ToList();
        if (missing.Count > 0) problems.Add($"the vocabulary is not CLIP's byte-level one (it lacks {string.Join(", ", missing.Select(m => $"'{m}'"))})");
        var malformed = merges.FirstOrDefault(m => m.Split(' ').Length != 2);
        if (malformed is not null) problems.Add($"the merge '{malformed}' is not two tokens separated by one space");
        if (problems.Count > 0) throw new CheckpointFormatException(string.Join("; ", problems));
        try
        {
            var bpe = BpeTokenizer.Create(new BpeOptions(vocabulary.Where(v => v.Key is not (StartOfText or EndOfText)))
            {
                Merges = merges,
                EndOfWordSuffix = EndOfWord,
            });
            return new ClipTokenizer(bpe, start, end, vocabulary.Count);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException or KeyNotFoundException)
        {
            throw new CheckpointFormatException($"the tokenizer files do not make a BPE tokenizer: {e.Message}");
        }
    }

    private static string ToByteCharacters(string piece)
    {
        var builder = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(piece)) builder.Append(Bytes.ByByte[b]);
        return builder.ToString();
    }

    /// <summary>
    /// CLIP's (GPT-2's) reversible map of the 256 bytes to printable characters: printable Latin-1 bytes stand for
    /// themselves, the others take 256, 257, … in byte order. The vocabulary lists them printable first, then the others.
    /// </summary>
    private static (string[] ByByte, string[] InVocabularyOrder) ByteMap()
    {
        var printable = Enumerable.Range('!', '~' - '!' + 1).Concat(Enumerable.Range('¡', '¬' - '¡' + 1)).Concat(Enumerable.Range('®', 'ÿ' - '®' + 1)).ToList();
        var others = Enumerable.Range(0, 256).Except(printable).ToList();
        var byByte = new string[256];
        foreach (var b in printable) byByte[b] = ((char)b).ToString();
        for (int n = 0; n < others.Count; n++) byByte[others[n]] = ((char)(256 + n)).ToString();
        return (byByte, printable.Concat(others).Select(b => byByte[b]).ToArray());
    }

    [GeneratedRegex(@"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex PreToken();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}

/// <summary>A text whose tokens do not fit the text tower's context; CLIP's texts are never cut silently here.</summary>
public sealed class TextTooLongException(string text, int tokens, int context)
    : ArgumentException($"\"{(text.Length > 60 ? text[..60] + "…" : text)}\" is {tokens} tokens with start and end of text, over the context of {context}")
{
    public int Tokens { get; } = tokens;
}
