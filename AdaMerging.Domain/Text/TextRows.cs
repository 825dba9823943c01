using AdaMerging.Domain.Datasets;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Text;

/// <summary>
/// A text dataset's examples as a text model's input: each batch tokenised by the model's tokenizer, cut to the
/// maximum sequence length and packed as a <see cref="TokenBatch"/> padded to the batch's longest text. Token ids are
/// kept once made (a run reads its examples many times); the texts themselves are small beside any model.
/// </summary>
public sealed class TextRows(IReadOnlyList<string> texts, ITextTokenizer tokenizer, int maxTokens) : IExampleRows
{
    private readonly int[]?[] _ids = new int[texts.Count][];

    public long Count => texts.Count;

    public int MaxTokens => maxTokens;

    public Tensor Read(long[] rows, Device device) =>
        TokenBatch.Pack([.. rows.Select(r => _ids[r] ??= tokenizer.Encode(texts[checked((int)r)], maxTokens))], tokenizer.PaddingId, device);

    public void Dispose() { }

    /// <summary>A text file's rows and its labels (int64 [N]) when it has them.</summary>
    public static (IExampleRows Rows, Tensor? Labels) Open(string path, ITextTokenizer tokenizer, int maxTokens)
    {
        var (texts, labels) = TextDataset.Load(path);
        return (new TextRows(texts, tokenizer, maxTokens), labels is null ? null : tensor(labels));
    }
}
