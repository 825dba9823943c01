using System.Text.Json;
using System.Text.Json.Nodes;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Text;
using AdaMerging.Tests.Support;

namespace AdaMerging.Tests.Domain.Text;

/// <summary>
/// tokenizer.json's byte-level BPE (Llama 3's and Qwen2's) against the reference encoder written from Hugging Face's
/// algorithm (tools/make_llama_fixture.py): its Split pattern, NFC, the template's special tokens, truncation.
/// </summary>
public sealed class TokenizerJsonBpeTests
{
    public static TheoryData<string> Variants => ["llama3_causal_lm", "qwen2_tied"];

    private static Dictionary<string, string> Files(string variant) => new(StringComparer.Ordinal) { ["tokenizer.json"] = LlamaTiny.File(variant, "tokenizer.json") };

    [Theory]
    [MemberData(nameof(Variants))]
    public void Ids_equal_the_reference_s_on_contractions_digits_unicode_line_breaks_and_truncation(string variant)
    {
        var tokenizer = TokenizerJsonBpe.Open(Files(variant));
        using var cases = JsonDocument.Parse(File.ReadAllText(LlamaTiny.File(variant, "tokens.json")));
        int max = cases.RootElement.GetProperty("max_length").GetInt32();
        foreach (var c in cases.RootElement.GetProperty("cases").EnumerateArray())
        {
            var text = c.GetProperty("text").GetString()!;
            var expected = c.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var actual = tokenizer.Encode(text, max);
            Assert.True(expected.SequenceEqual(actual), $"{variant} '{text}': expected [{string.Join(", ", expected)}], got [{string.Join(", ", actual)}]");
        }
    }

    [Theory]
    [InlineData("model", "{\"type\": \"Unigram\", \"vocab\": []}", "model is Unigram")]
    [InlineData("byte_fallback", "true", "SentencePiece-style BPE (byte_fallback)")]
    [InlineData("normalizer", "{\"type\": \"Lowercase\"}", "normalizer Lowercase")]
    [InlineData("pre_tokenizer", "{\"type\": \"Metaspace\", \"replacement\": \"▁\"}", "pre-tokenizer step Metaspace")]
    [InlineData("post_processor", "{\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\": \"<s>\", \"type_id\": 0}}, {\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}]}", "names '<s>'")]
    public void What_it_does_not_read_is_refused_naming_it(string key, string value, string expected)
    {
        using var dir = new TempDirectory();
        var json = JsonNode.Parse(File.ReadAllText(LlamaTiny.File("llama3_causal_lm", "tokenizer.json")))!.AsObject();
        if (key == "byte_fallback") json["model"]!["byte_fallback"] = JsonNode.Parse(value);
        else json[key] = JsonNode.Parse(value);
        var path = Path.Combine(dir.Path, "tokenizer.json");
        File.WriteAllText(path, json.ToJsonString());
        var e = Assert.Throws<CheckpointFormatException>(() => TokenizerJsonBpe.Open(new Dictionary<string, string> { ["tokenizer.json"] = path }));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }
}
