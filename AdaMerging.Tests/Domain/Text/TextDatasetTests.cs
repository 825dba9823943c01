using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Text;
using AdaMerging.Tests.Support;

namespace AdaMerging.Tests.Domain.Text;

/// <summary>Text datasets as uploads are inspected: JSON Lines and CSV, labels by number or name, every problem named by line.</summary>
public sealed class TextDatasetTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Write(string content, string name = "data")
    {
        var path = Path.Combine(_dir.Path, name);
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public void Json_lines_with_numbered_labels_give_their_count_and_largest_label()
    {
        var info = DatasetInfo.Inspect(Write("{\"text\": \"a fine day\", \"label\": 2}\n\n{\"text\": \"\", \"label\": 0}\n{\"text\": \"ünïcode 🙂\", \"label\": 1}\n"), new UploadLimits());
        Assert.Equal((DatasetFormat.JsonLines, DatasetModality.Text, 3, true, 2), (info.Format, info.Modality, info.Count, info.HasLabels, info.MaxLabel));
        Assert.Null(info.ClassNames);
    }

    [Fact]
    public void Csv_with_named_labels_and_quoted_fields_ranks_the_classes_by_name()
    {
        var path = Write("id,text,label\n1,\"hello, \"\"world\"\"\",spam\n2,\"two\nlines\",ham\n3,plain,spam\n");
        var info = DatasetInfo.Inspect(path, new UploadLimits());
        Assert.Equal((DatasetFormat.Csv, 3, 1), (info.Format, info.Count, info.MaxLabel));
        Assert.Equal(["ham", "spam"], info.ClassNames);
        var (texts, labels) = TextDataset.Load(path);
        Assert.Equal(["hello, \"world\"", "two\nlines", "plain"], texts);
        Assert.Equal([1L, 0L, 1L], labels!);
    }

    [Fact]
    public void Unlabeled_text_is_adaptation_data()
    {
        var info = DatasetInfo.Inspect(Write("text\nfirst\nsecond\n"), new UploadLimits());
        Assert.Equal((2, false, (int?)null), (info.Count, info.HasLabels, info.MaxLabel));
    }

    [Fact]
    public void Every_problem_is_named_by_its_line()
    {
        var e = Assert.Throws<CheckpointFormatException>(() => DatasetInfo.Inspect(
            Write("{\"text\": \"ok\", \"label\": 1}\n{\"label\": 1}\n[1, 2]\n{\"text\": 5}\n{\"text\": \"x\", \"label\": -1}\n"), new UploadLimits()));
        Assert.Contains("line 2: no 'text'", e.Message, StringComparison.Ordinal);
        Assert.Contains("line 3: not a JSON object", e.Message, StringComparison.Ordinal);
        Assert.Contains("line 4: 'text' is not a string", e.Message, StringComparison.Ordinal);
        Assert.Contains("line 5: label -1 is not a whole number ≥ 0", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Labels_for_some_examples_only_or_of_both_kinds_are_refused()
    {
        Assert.Contains("line 2: no 'label' where other examples have one", Assert.Throws<CheckpointFormatException>(() =>
            DatasetInfo.Inspect(Write("{\"text\": \"a\", \"label\": 1}\n{\"text\": \"b\"}\n"), new UploadLimits())).Message, StringComparison.Ordinal);
        Assert.Contains("line 3: labels mix whole numbers and names", Assert.Throws<CheckpointFormatException>(() =>
            DatasetInfo.Inspect(Write("text,label\na,spam\nb,1\n"), new UploadLimits())).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_over_long_text_a_csv_without_a_text_column_and_bytes_that_are_not_utf8_are_refused()
    {
        var limits = new UploadLimits { MaxTextCharacters = 10 };
        Assert.Contains("line 3: the text has 11 characters, over the limit of 10", Assert.Throws<CheckpointFormatException>(() =>
            DatasetInfo.Inspect(Write("text\nshort\nelevenchars\n"), limits)).Message, StringComparison.Ordinal);
        Assert.Contains("has no 'text' column", Assert.Throws<CheckpointFormatException>(() =>
            DatasetInfo.Inspect(Write("sentence,label\na,1\n"), limits)).Message, StringComparison.Ordinal);
        var binary = Path.Combine(_dir.Path, "binary");
        File.WriteAllBytes(binary, [0xC3, 0x28, 0xA0, 0xA1, 0x41, 0x42, 0x43, 0x44, 0x45]);
        Assert.Contains("nor UTF-8 text", Assert.Throws<CheckpointFormatException>(() => DatasetInfo.Inspect(binary, limits)).Message, StringComparison.Ordinal);
        Assert.Contains("line 2: a quoted field is never closed", Assert.Throws<CheckpointFormatException>(() =>
            DatasetInfo.Inspect(Write("text\n\"open quote\n"), new UploadLimits())).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Text_rows_are_tokenised_by_the_model_s_tokenizer_cut_to_the_maximum_length_and_padded_to_the_batch_s_longest()
    {
        var path = Write("{\"text\": \"hello world\"}\n{\"text\": \"merge the model merge the model merge the model\"}\n");
        var tokenizer = WordPieceTokenizer.Open(BertTiny.TokenizerFiles());
        var (rows, labels) = TextRows.Open(path, tokenizer, maxTokens: 6);
        using (rows)
        {
            Assert.Null(labels);
            using var batch = rows.Read([0, 1], TorchSharp.torch.CPU);
            Assert.Equal([2L, 2, 6], batch.shape);
            Assert.Equal([1L, 1, 1, 1, 0, 0], batch[0, 1].data<long>().ToArray());
            Assert.Equal(tokenizer.Encode("merge the model merge the model merge the model", 6).Select(i => (long)i), batch[1, 0].data<long>().ToArray());
        }
    }
}
