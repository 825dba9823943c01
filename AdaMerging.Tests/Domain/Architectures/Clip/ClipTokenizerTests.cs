using AdaMerging.Domain.Architectures.Clip;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Tests.Support;

namespace AdaMerging.Tests.Domain.Architectures.Clip;

/// <summary>The tokenizer against the PyTorch reference's ids (tools/make_text_fixture.py), from both file formats.</summary>
public sealed class ClipTokenizerTests : TempDirectoryTests
{
    public static TheoryData<string> Formats => new() { "hugging_face", "open_clip" };

    private static ClipTokenizer Open(string format) => format == "open_clip"
        ? ClipTokenizer.FromOpenClip(ClipText.File(ClipTokenizer.OpenClipFile))
        : ClipTokenizer.FromHuggingFace(ClipText.File(ClipTokenizer.VocabularyFile), ClipText.File(ClipTokenizer.MergesFile));

    [Theory]
    [MemberData(nameof(Formats))]
    public void Token_ids_equal_the_reference_s_for_punctuation_digits_apostrophes_unicode_entities_and_whitespace(string format)
    {
        var tokenizer = Open(format);
        var fitting = ClipText.Texts().Where(t => t.Ids is not null).ToList();
        Assert.True(fitting.Count >= 11, "the fixture's edge cases are missing");
        foreach (var (text, ids) in fitting) Assert.True(ids!.SequenceEqual(tokenizer.Encode(text, 77)), $"'{text}': [{string.Join(", ", tokenizer.Encode(text, 77))}] ≠ [{string.Join(", ", ids!)}]");
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void A_text_of_78_tokens_is_an_error_and_one_of_77_is_not(string format)
    {
        var tokenizer = Open(format);
        var tooLong = ClipText.Texts().Single(t => t.Ids is null).Text;
        var error = Assert.Throws<TextTooLongException>(() => tokenizer.Encode(tooLong, 77));
        Assert.Equal(78, error.Tokens);
        Assert.Contains("78 tokens", error.Message, StringComparison.Ordinal);
        Assert.Equal(77, tokenizer.Encode(tooLong[..^2], 77).Count);
    }

    [Fact]
    public void Both_formats_give_the_same_start_and_end_ids_and_vocabulary_size()
    {
        ClipTokenizer hf = Open("hugging_face"), openClip = Open("open_clip");
        Assert.Equal((hf.StartId, hf.EndId, hf.VocabularySize), (openClip.StartId, openClip.EndId, openClip.VocabularySize));
        Assert.Equal(hf.VocabularySize - 1, hf.EndId);
    }

    [Fact]
    public void Clean_up_decodes_entities_twice_composes_unicode_collapses_whitespace_and_lower_cases()
    {
        Assert.Equal("at&t <b> &", ClipTokenizer.Clean("  AT&amp;T\t&lt;b&gt;\n\n &amp;amp; "));
        Assert.Equal("café", ClipTokenizer.Clean("Cafe\u0301"));
    }

    [Fact]
    public void A_vocabulary_without_CLIP_s_special_tokens_is_refused_naming_them()
    {
        var vocab = Dir.File("vocab.json");
        File.WriteAllText(vocab, "{\"a\": 0, \"b\": 1}");
        var error = Assert.Throws<CheckpointFormatException>(() => ClipTokenizer.FromHuggingFace(vocab, ClipText.File(ClipTokenizer.MergesFile)));
        Assert.Contains("lacks <|startoftext|>", error.Message, StringComparison.Ordinal);
        Assert.Contains("lacks <|endoftext|>", error.Message, StringComparison.Ordinal);
        Assert.Contains("not CLIP's byte-level one", error.Message, StringComparison.Ordinal);
    }
}
