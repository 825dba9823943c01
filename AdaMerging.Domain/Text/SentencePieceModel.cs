using AdaMerging.Domain.Checkpoints;
using Microsoft.ML.Tokenizers;

namespace AdaMerging.Domain.Text;

/// <summary>
/// SentencePiece's tokenizer.model as Llama 2 and Mistral ship it (docs/algorithm.md, "Tokenizers"), through
/// Microsoft.ML.Tokenizers' LlamaTokenizer: BPE over the model's pieces, a space before the text (add_dummy_prefix),
/// spaces as ▁, characters outside the vocabulary as their UTF-8 bytes (byte_fallback), &lt;s&gt; before a text as
/// Hugging Face's LlamaTokenizer adds it, the text's end cut so that the whole fits the maximum. A Unigram model (T5's,
/// ALBERT's) is refused naming it: Llama's family ships BPE.
/// </summary>
public sealed class SentencePieceModel : ICausalTokenizer
{
    public const string FileName = "tokenizer.model";

    private readonly LlamaTokenizer _tokenizer;
    private readonly int[] _leading;

    private SentencePieceModel(LlamaTokenizer tokenizer, int paddingId)
    {
        _tokenizer = tokenizer;
        _leading = [tokenizer.BeginningOfSentenceId];
        PaddingId = paddingId;
    }

    public int PaddingId { get; }

    public IReadOnlyList<int> Leading => _leading;

    public string Describe() => $"SentencePiece BPE from tokenizer.model{(_tokenizer.ByteFallback ? ", byte fallback" : "")}, <s> added";

    public int[] Encode(string text, int maxTokens) => [.. _leading, .. EncodePlain(text).Take(Math.Max(0, maxTokens - _leading.Length))];

    public int[] EncodePlain(string text) =>
        [.. _tokenizer.EncodeToIds(text, addBeginningOfSentence: false, addEndOfSentence: false, considerPreTokenization: true, considerNormalization: true)];

    /// <summary>Whether the files hold a tokenizer.model.</summary>
    public static bool Present(IReadOnlyDictionary<string, string> sideFiles) => sideFiles.ContainsKey(FileName);

    /// <summary>The tokenizer tokenizer.model describes, padding with <paramref name="paddingId"/> (else 0: padding is masked); throws <see cref="CheckpointFormatException"/> when it does not parse.</summary>
    public static SentencePieceModel Open(IReadOnlyDictionary<string, string> sideFiles, int? paddingId = null)
    {
        try
        {
            using var stream = File.OpenRead(sideFiles[FileName]);
            return new SentencePieceModel(LlamaTokenizer.Create(stream, addBeginOfSentence: true, addEndOfSentence: false), paddingId ?? 0);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException or IOException or NotSupportedException
            or Google.Protobuf.InvalidProtocolBufferException)
        {
            throw new CheckpointFormatException($"tokenizer.model does not parse as a SentencePiece BPE model: {e.Message}");
        }
    }
}
