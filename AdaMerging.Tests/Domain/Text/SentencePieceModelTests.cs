using System.Text.Json;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Text;
using AdaMerging.Tests.Support;
using static TorchSharp.torch;

namespace AdaMerging.Tests.Domain.Text;

/// <summary>
/// SentencePiece's tokenizer.model (Llama 2's and Mistral's) against SentencePiece itself
/// (tools/make_sentencepiece_fixture.py: byte fallback, split digits, the dummy prefix, spaces kept), and a
/// Llama-family checkpoint that brings one: it reads text with it, preferring it to the SentencePiece-style
/// tokenizer.json shipped beside it.
/// </summary>
public sealed class SentencePieceModelTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string ModelFile => LlamaTiny.File("llama2_sentencepiece", "tokenizer.model");

    [Fact]
    public void Ids_with_and_without_the_begin_token_equal_sentencepiece_s_on_bytes_digits_spaces_and_truncation()
    {
        var tokenizer = SentencePieceModel.Open(new Dictionary<string, string> { ["tokenizer.model"] = ModelFile });
        using var cases = JsonDocument.Parse(File.ReadAllText(LlamaTiny.File("llama2_sentencepiece", "tokens.json")));
        int max = cases.RootElement.GetProperty("max_length").GetInt32();
        Assert.Equal([1], tokenizer.Leading);
        foreach (var c in cases.RootElement.GetProperty("cases").EnumerateArray())
        {
            var text = c.GetProperty("text").GetString()!;
            int[] Ids(string field) => [.. c.GetProperty(field).EnumerateArray().Select(e => e.GetInt32())];
            Assert.True(Ids("ids").SequenceEqual(tokenizer.Encode(text, max)), $"'{text}': expected [{string.Join(", ", Ids("ids"))}], got [{string.Join(", ", tokenizer.Encode(text, max))}]");
            Assert.True(Ids("plain").SequenceEqual(tokenizer.EncodePlain(text)), $"'{text}' without specials: expected [{string.Join(", ", Ids("plain"))}], got [{string.Join(", ", tokenizer.EncodePlain(text))}]");
        }
    }

    [Fact]
    public void A_llama_checkpoint_with_tokenizer_model_reads_text_with_it_even_beside_a_sentencepiece_style_tokenizer_json()
    {
        var sentencePieceJson = Path.Combine(_dir.Path, "tokenizer.json");
        File.WriteAllText(sentencePieceJson, """{"model": {"type": "BPE", "byte_fallback": true, "vocab": {}, "merges": []}, "pre_tokenizer": null}""");
        using var folder = ModelFolder.Open(new Dictionary<string, string>
        {
            ["model.safetensors"] = LlamaTiny.File("llama_classifier", "model.safetensors"),
            ["config.json"] = LlamaTiny.File("llama_classifier", "config.json"),
            ["tokenizer.model"] = ModelFile,
            ["tokenizer.json"] = sentencePieceJson,
        });
        var spec = folder.Spec!;
        spec.Verify(folder);
        var data = Path.Combine(_dir.Path, "texts.jsonl");
        File.WriteAllText(data, "{\"text\": \"the model merges\", \"label\": 1}\n");
        var info = DatasetInfo.Inspect(data, new UploadLimits());
        Assert.Empty(spec.DataProblems(info, "the data"));
        var (rows, _) = spec.OpenRows(data, info, Path.Combine(_dir.Path, "scratch"));
        using (rows)
        {
            using var batch = rows.Read([0], CPU);
            var expected = SentencePieceModel.Open(new Dictionary<string, string> { ["tokenizer.model"] = ModelFile }).Encode("the model merges", 128);
            Assert.Equal(expected.Select(i => (long)i), batch[0, 0].data<long>().ToArray());
        }
    }

    [Fact]
    public void A_tokenizer_model_that_is_not_sentencepiece_is_refused_naming_the_file()
    {
        var broken = Path.Combine(_dir.Path, "tokenizer.model");
        File.WriteAllBytes(broken, [0xff, 0xff, 0xff, 0x01, 0x02]);
        var e = Assert.Throws<CheckpointFormatException>(() => SentencePieceModel.Open(new Dictionary<string, string> { ["tokenizer.model"] = broken }));
        Assert.Contains("tokenizer.model does not parse", e.Message, StringComparison.Ordinal);
    }
}
