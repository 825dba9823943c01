using System.Text.Json;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Text;
using AdaMerging.Tests.Support;

namespace AdaMerging.Tests.Domain.Text;

/// <summary>GPT-2's and RoBERTa's byte-level BPE against the reference's ids (tools/make_gpt2_fixture.py: GPT-2's encoder.py algorithm).</summary>
public sealed class ByteLevelBpeTokenizerTests
{
    public static TheoryData<bool> Conventions => [false, true];

    [Theory]
    [MemberData(nameof(Conventions))]
    public void Ids_equal_the_reference_s_on_spaces_contractions_digits_unicode_emoji_and_truncation(bool roberta)
    {
        var tokenizer = ByteLevelBpeTokenizer.Open(Gpt2Tiny.TokenizerFiles(roberta), roberta);
        using var cases = JsonDocument.Parse(File.ReadAllText(Path.Combine(Gpt2Tiny.Root, "tokens.json")));
        int max = cases.RootElement.GetProperty("max_length").GetInt32();
        foreach (var c in cases.RootElement.GetProperty("cases").EnumerateArray())
        {
            var text = c.GetProperty("text").GetString()!;
            var expected = c.GetProperty(roberta ? "roberta" : "gpt2").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            Assert.True(expected.SequenceEqual(tokenizer.Encode(text, max)), $"'{text}': expected [{string.Join(", ", expected)}], got [{string.Join(", ", tokenizer.Encode(text, max))}]");
        }
    }

    [Fact]
    public void Roberta_pads_with_its_pad_token_gpt2_with_end_of_text_and_broken_files_are_refused()
    {
        Assert.Equal(1, ByteLevelBpeTokenizer.Open(Gpt2Tiny.TokenizerFiles(roberta: true), roberta: true).PaddingId);
        var gpt2 = ByteLevelBpeTokenizer.Open(Gpt2Tiny.TokenizerFiles(), roberta: false);
        Assert.Equal(279, gpt2.PaddingId);
        Assert.Contains("GPT-2", gpt2.Describe(), StringComparison.Ordinal);
        using var dir = new TempDirectory();
        var broken = Path.Combine(dir.Path, "vocab.json");
        File.WriteAllText(broken, "{ not json");
        var e = Assert.Throws<CheckpointFormatException>(() =>
            ByteLevelBpeTokenizer.Open(new Dictionary<string, string> { ["vocab.json"] = broken, ["merges.txt"] = Gpt2Tiny.TokenizerFiles()["merges.txt"] }, roberta: false));
        Assert.Contains("do not parse", e.Message, StringComparison.Ordinal);
        Assert.Throws<CheckpointFormatException>(() => ByteLevelBpeTokenizer.Open(Gpt2Tiny.TokenizerFiles(), roberta: true)); // no <s> in GPT-2's vocabulary
    }
}
