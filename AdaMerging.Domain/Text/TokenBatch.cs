using AdaMerging.Domain.Compute;
using TorchSharp;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Text;

/// <summary>
/// A batch of tokenised texts as a text model's input: one int64 tensor [B, 2, L], row 0 the token ids (padded with
/// the tokenizer's padding id), row 1 the attention mask (1 for a token, 0 for padding; 2 for a language-model
/// completion's token, which evaluation scores and the model attends to like any other), L the batch's longest text.
/// One tensor, so text flows through the same paths as images (docs/algorithm.md, "Text models"); integer, so no
/// compute dtype ever rounds an id.
/// </summary>
public static class TokenBatch
{
    /// <summary>The smallest token count a mean divides by (an all-padding row gives zeros, not NaN).</summary>
    public static readonly Scalar MinimumCount = 1e-9.ToScalar();

    /// <summary>The mask row's value for a completion's token (<see cref="PackScored"/>).</summary>
    public static readonly Scalar CompletionRole = RootedScalars.Of(2L);

    /// <summary>Texts' ids, padded to the longest.</summary>
    public static Tensor Pack(IReadOnlyList<int[]> texts, int paddingId, Device? device = null) =>
        PackScored([.. texts.Select(t => (t, t.Length))], paddingId, device);

    /// <summary>Prompts with their completions: ids padded to the longest, the tokens from <c>ScoredFrom</c> on marked as the completion's.</summary>
    public static Tensor PackScored(IReadOnlyList<(int[] Ids, int ScoredFrom)> texts, int paddingId, Device? device = null)
    {
        int b = texts.Count, l = Math.Max(1, texts.Max(t => t.Ids.Length));
        var data = new long[b * 2 * l];
        for (int r = 0; r < b; r++)
        {
            var (ids, scoredFrom) = texts[r];
            for (int i = 0; i < l; i++)
            {
                data[r * 2 * l + i] = i < ids.Length ? ids[i] : paddingId;
                data[r * 2 * l + l + i] = i >= ids.Length ? 0 : i < scoredFrom ? 1 : 2;
            }
        }
        return tensor(data, [b, 2, l], device: device);
    }

    /// <summary>The mask row [B, L] of a batch (0 padding, 1 a token, 2 a completion's token).</summary>
    public static Tensor Mask(Tensor tokens) => tokens.select(1, 1);

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
        return (ids, tokens.select(1, 1).clamp_max(RootedScalars.One));   // a completion's token is a token to the model
    }
}
