using System.Text.Json;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Text;
using AdaMerging.Tests.Support;

namespace AdaMerging.Tests.Domain.Text;

/// <summary>WordPiece through Microsoft.ML.Tokenizers against the reference tokenizer written from Hugging Face's algorithm (tools/make_bert_fixture.py).</summary>
public sealed class WordPieceTokenizerTests
{
    private static readonly JsonElement Reference = JsonDocument.Parse(File.ReadAllText(Path.Combine(BertTiny.Root, "tokens.json"))).RootElement;

    public static TheoryData<int> Cases => [.. Enumerable.Range(0, Reference.GetProperty("cases").GetArrayLength())];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Ids_equal_the_reference_s_on_accents_unicode_punctuation_long_words_and_truncation(int index)
    {
        var tokenizer = WordPieceTokenizer.Open(BertTiny.TokenizerFiles());
        var @case = Reference.GetProperty("cases")[index];
        var expected = @case.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var actual = tokenizer.Encode(@case.GetProperty("text").GetString()!, Reference.GetProperty("max_length").GetInt32());
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void A_tokenizer_json_with_a_word_piece_model_gives_the_same_ids_as_vocab_txt()
    {
        using var dir = new TempDirectory();
        var vocab = File.ReadAllLines(Path.Combine(BertTiny.Root, "vocab.txt")).Where(l => l.Length > 0).Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i);
        var json = Path.Combine(dir.Path, "tokenizer.json");
        File.WriteAllText(json, JsonSerializer.Serialize(new
        {
            normalizer = new { type = "BertNormalizer", lowercase = true, strip_accents = (bool?)null, handle_chinese_chars = true },
            model = new { type = "WordPiece", unk_token = "[UNK]", vocab },
        }));
        var files = new Dictionary<string, string> { ["tokenizer.json"] = json };
        Assert.True(WordPieceTokenizer.Present(files));
        var fromJson = WordPieceTokenizer.Open(files);
        var fromVocab = WordPieceTokenizer.Open(BertTiny.TokenizerFiles());
        foreach (var text in new[] { "Héllo, world!", "unaffable runnings", "中文" })
            Assert.Equal(fromVocab.Encode(text, 32), fromJson.Encode(text, 32));
    }

    [Fact]
    public void A_vocabulary_that_does_not_parse_is_refused_as_a_checkpoint_problem()
    {
        using var dir = new TempDirectory();
        var json = Path.Combine(dir.Path, "tokenizer.json");
        File.WriteAllText(json, """{"model": {"type": "WordPiece", "vocab": {"a": 3}}}""");
        var e = Assert.Throws<CheckpointFormatException>(() => WordPieceTokenizer.Open(new Dictionary<string, string> { ["tokenizer.json"] = json }));
        Assert.Contains("WordPiece", e.Message, StringComparison.Ordinal);
    }
}
