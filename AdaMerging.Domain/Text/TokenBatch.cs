using AdaMerging.Domain.Compute;
using TorchSharp;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Text;

/// <summary>
/// A batch of tokenised texts as a text model's input: one int64 tensor [B, 2, L], row 0 the token ids (padded with
/// the tokenizer's padding id), row 1 the attention mask (1 for a token, 0 for padding), L the batch's longest text.
/// One tensor, so text flows through the same paths as images (docs/algorithm.md, "Text models"); integer, so no
/// compute dtype ever rounds an id.
/// </summary>
public static class TokenBatch
{
    /// <summary>The smallest token count a mean divides by (an all-padding row gives zeros, not NaN).</summary>
    public static readonly Scalar MinimumCount = 1e-9.ToScalar();

    /// <summary>Texts' ids, padded to the longest.</summary>
    public static Tensor Pack(IReadOnlyList<int[]> texts, int paddingId, Device? device = null)
    {
        int b = texts.Count, l = Math.Max(1, texts.Max(t => t.Length));
        var data = new long[b * 2 * l];
        for (int r = 0; r < b; r++)
        {
            var ids = texts[r];
            for (int i = 0; i < l; i++)
            {
                data[r * 2 * l + i] = i < ids.Length ? ids[i] : paddingId;
                data[r * 2 * l + l + i] = i < ids.Length ? 1 : 0;
            }
        }
        return tensor(data, [b, 2, l], device: device);
    }

    /// <summary>
    /// The ids [B, L] and mask [B, L] of a batch, checked first: TorchSharp aborts the process on an index out of
    /// range (uncatchable), so ids outside the vocabulary and texts longer than the model's positions are refused here.
    /// </summary>
    public static (Tensor Ids, Tensor Mask) Split(Tensor tokens, int vocabulary, int maxTokens)
    {
        if (tokens.dim() != 3 || tokens.shape[1] != 2 || tokens.dtype != ScalarType.Int64)
            throw new ArgumentException($"a text model takes int64 tokens [B, 2, L] (ids and attention mask), not {tokens.dtype} [{string.Join(", ", tokens.shape)}]", nameof(tokens));
        if (tokens.shape[2] > maxTokens)
            throw new ArgumentException($"texts of {tokens.shape[2]} tokens exceed the model's {maxTokens}", nameof(tokens));
        var ids = tokens.select(1, 0);
        if (ids.numel() > 0 && (ids.min().item<long>() < 0 || ids.max().item<long>() >= vocabulary))
            throw new ArgumentException($"token ids must be within the model's vocabulary of {vocabulary}", nameof(tokens));
        return (ids, tokens.select(1, 1));
    }
}
