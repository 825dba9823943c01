using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Text;
using AdaMerging.Tests.Support;
using static TorchSharp.torch;

namespace AdaMerging.Tests.Domain.Text;

/// <summary>
/// Prompt datasets as uploads are inspected (prompts, completions all or none, every problem named by line), and
/// prompts with completions as a language model reads them: the leading special, the completion's tokens marked as
/// scored, and the cut to the maximum length (a prompt alone loses its end; with a completion, its beginning).
/// </summary>
public sealed class PromptDatasetTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Write(string content)
    {
        var path = Path.Combine(_dir.Path, "data.jsonl");
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public void Prompts_with_and_without_completions_are_recognised_as_prompt_data_with_their_count()
    {
        var adaptation = DatasetInfo.Inspect(Write("{\"prompt\": \"Once upon\"}\n\n{\"prompt\": \"\"}\n"), new UploadLimits());
        Assert.Equal((DatasetFormat.JsonLines, DatasetModality.Prompts, 2, false), (adaptation.Format, adaptation.Modality, adaptation.Count, adaptation.HasLabels));
        var evaluation = DatasetInfo.Inspect(Write("{\"prompt\": \"2 + 2 =\", \"completion\": \" 4\"}\n{\"prompt\": \"Paris is in\", \"completion\": \" France\"}\n"), new UploadLimits());
        Assert.Equal((DatasetModality.Prompts, 2, true), (evaluation.Modality, evaluation.Count, evaluation.HasLabels));
        Assert.Equal([new PromptExample("2 + 2 =", " 4"), new PromptExample("Paris is in", " France")], PromptDataset.Load(Path.Combine(_dir.Path, "data.jsonl")));
        Assert.Equal(DatasetModality.Text, DatasetInfo.Inspect(Write("{\"text\": \"prompt\", \"label\": 1}\n"), new UploadLimits()).Modality);
    }

    [Fact]
    public void Every_problem_is_named_by_its_line()
    {
        var e = Assert.Throws<CheckpointFormatException>(() => DatasetInfo.Inspect(Write(
            "{\"prompt\": \"a\"}\n{\"prompt\": 3}\n{\"prompt\": \"b\", \"completion\": \"\"}\n[1]\n{\"prompt\": \"c\", \"completion\": 7}\n"), new UploadLimits()));
        Assert.Contains("line 2: 'prompt' is not a string", e.Message, StringComparison.Ordinal);
        Assert.Contains("line 3: the 'completion' is empty", e.Message, StringComparison.Ordinal);
        Assert.Contains("line 4: not a JSON object", e.Message, StringComparison.Ordinal);
        Assert.Contains("line 5: 'completion' is not a string", e.Message, StringComparison.Ordinal);
        var some = Assert.Throws<CheckpointFormatException>(() => DatasetInfo.Inspect(Write("{\"prompt\": \"a\", \"completion\": \"b\"}\n{\"prompt\": \"c\"}\n"), new UploadLimits()));
        Assert.Contains("line 2: no 'completion' where line 1 has one (completions all or none)", some.Message, StringComparison.Ordinal);
        var missing = Assert.Throws<CheckpointFormatException>(() => DatasetInfo.Inspect(Write("{\"prompt\": \"a\"}\n{\"completion\": \"b\"}\n"), new UploadLimits()));
        Assert.Contains("line 2: no 'prompt'", missing.Message, StringComparison.Ordinal);
        var large = Assert.Throws<CheckpointFormatException>(() => DatasetInfo.Inspect(Write("{\"prompt\": \"abcdef\", \"completion\": \"ghij\"}\n"),
            new UploadLimits { MaxTextCharacters = 8 }));
        Assert.Contains("line 1: the example has 10 characters, over the limit of 8", large.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_prompt_with_its_completion_is_packed_with_the_leading_special_and_the_completion_marked_as_scored()
    {
        var tokenizer = TokenizerJsonBpe.Open(new Dictionary<string, string> { ["tokenizer.json"] = LlamaTiny.File("llama3_causal_lm", "tokenizer.json") });
        var rows = new PromptRows([new PromptExample("the cat", " sat"), new PromptExample("a", null)], tokenizer, maxTokens: 16);
        int begin = tokenizer.Leading.Single();
        int[] prompt = tokenizer.EncodePlain("the cat"), completion = tokenizer.EncodePlain(" sat");
        var (ids, scoredFrom) = rows.Encode(new PromptExample("the cat", " sat"));
        Assert.Equal([begin, .. prompt, .. completion], ids);
        Assert.Equal(1 + prompt.Length, scoredFrom);

        using var batch = rows.Read([0, 1], CPU);
        var mask = batch.select(1, 1);
        Assert.Equal([1L, .. prompt.Select(_ => 1L), .. completion.Select(_ => 2L)], mask[0].data<long>().ToArray());
        Assert.Equal(1 + tokenizer.EncodePlain("a").Length, mask[1].sum().item<long>());   // no completion: every token a prompt token, then padding
    }

    [Fact]
    public void Past_the_maximum_a_completion_keeps_its_prompt_s_end_and_a_prompt_alone_keeps_its_beginning()
    {
        var tokenizer = TokenizerJsonBpe.Open(new Dictionary<string, string> { ["tokenizer.json"] = LlamaTiny.File("llama3_causal_lm", "tokenizer.json") });
        const string text = "one two three four five six seven eight nine ten";
        int[] words = tokenizer.EncodePlain(text), answer = tokenizer.EncodePlain("!");
        int begin = tokenizer.Leading.Single();
        var rows = new PromptRows([], tokenizer, maxTokens: 8);

        var (withAnswer, from) = rows.Encode(new PromptExample(text, "!"));
        Assert.Single(answer);
        Assert.Equal([begin, .. words[^(7 - answer.Length)..], .. answer], withAnswer);
        Assert.Equal(8 - answer.Length, from);

        var (alone, end) = rows.Encode(new PromptExample(text, null));
        Assert.Equal([begin, .. words[..7]], alone);
        Assert.Equal(8, end);

        var (longAnswer, longFrom) = new PromptRows([], tokenizer, maxTokens: 4).Encode(new PromptExample(text, text));
        Assert.Equal([begin, words[^1], .. words[..2]], longAnswer);   // the completion alone is too long: cut at its end, one prompt token kept
        Assert.Equal(2, longFrom);
    }
}
