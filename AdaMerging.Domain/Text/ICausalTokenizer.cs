namespace AdaMerging.Domain.Text;

/// <summary>
/// A causal language model's tokenizer: besides a whole text's ids, the pieces a prompt and its completion are made
/// of (docs/algorithm.md, "Language-model tasks"): the special tokens a text begins with (a BOS), and a text's ids
/// with none. A prompt is the leading specials and its ids; its completion follows with none, and no end token.
/// </summary>
public interface ICausalTokenizer : ITextTokenizer
{
    /// <summary>The special tokens the tokenizer puts before a text (Llama's BOS); empty for GPT-2.</summary>
    IReadOnlyList<int> Leading { get; }

    /// <summary>The ids of <paramref name="text"/> without special tokens, untruncated.</summary>
    int[] EncodePlain(string text);
}
