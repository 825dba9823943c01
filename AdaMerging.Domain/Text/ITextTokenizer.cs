namespace AdaMerging.Domain.Text;

/// <summary>
/// A checkpoint's tokenizer, read from the files that came with it (docs/algorithm.md, "Tokenizers"): a text to the
/// ids the model takes, with the model's special tokens, truncated to a length.
/// </summary>
public interface ITextTokenizer
{
    /// <summary>What it is, in words (the report and errors name it).</summary>
    string Describe();

    /// <summary>The id batches are padded with.</summary>
    int PaddingId { get; }

    /// <summary>The ids of <paramref name="text"/> with the special tokens, at most <paramref name="maxTokens"/> of them (the text's end is cut, as Hugging Face's truncation does).</summary>
    int[] Encode(string text, int maxTokens);
}
