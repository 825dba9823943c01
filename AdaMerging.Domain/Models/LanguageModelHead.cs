using AdaMerging.Domain.Text;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AdaMerging.Domain.Models;

/// <summary>
/// A causal language model's next-token distributions (docs/algorithm.md, "Language-model tasks"): the final hidden
/// states [B, L, H] times the output matrix [V, H] — lm_head, or the token embeddings where they are tied — which is
/// one of the model's parameters, merged like any other, so the objective's gradient reaches it. Only the positions a
/// task counts are scored (the logits of padding would be [B, L, V] for nothing); the logits are widened to float32
/// before the softmax, as Hugging Face's causal LMs do.
/// </summary>
/// <param name="outputWeight">The output matrix's name among the parameters.</param>
public sealed class LanguageModelHead(string outputWeight) : ITaskHead
{
    public string OutputWeight { get; } = outputWeight;

    /// <summary>The next-token distribution at every token of the batch (prompt and completion alike), rows in batch-major order.</summary>
    public Tensor LogProbabilities(IReadOnlyDictionary<string, Tensor> parameters, Tensor output, Tensor input) =>
        Wide(Logits(parameters, output, Positions(TokenBatch.Mask(input).gt(RootedScalars.Zero))));

    /// <summary>
    /// How the batch's completions score: the sum of −log p of their tokens given what precedes them, how many tokens
    /// that is, and per example whether greedy decoding reproduces the completion — every token the argmax given the
    /// tokens before it, which is what greedy generation of that many tokens yields (teacher forcing decides it in one pass).
    /// </summary>
    public CompletionScores Score(IReadOnlyDictionary<string, Tensor> parameters, Tensor output, Tensor input)
    {
        using var scope = NewDisposeScope();
        long b = output.shape[0], l = output.shape[1];
        if (l < 2) return new CompletionScores(0, 0, 0, 0);
        var ids = input.select(1, 0).narrow(1, 1, l - 1);
        var scored = TokenBatch.Mask(input).narrow(1, 1, l - 1).eq(TokenBatch.CompletionRole);   // position t predicts token t + 1
        var rows = Positions(scored);
        var logP = Wide(Logits(parameters, output.narrow(1, 0, l - 1), rows));
        var targets = ids.flatten().index_select(0, rows);
        double nll = -logP.gather(1, targets.unsqueeze(1)).sum().to_type(ScalarType.Float64).item<double>();
        var wrong = zeros(b * (l - 1), dtype: ScalarType.Int64, device: output.device)
            .index_add_(0, rows, logP.argmax(-1).ne(targets).to_type(ScalarType.Int64), RootedScalars.One).view(b, l - 1).sum(-1);
        var hasCompletion = scored.any(-1);
        long examples = hasCompletion.sum().item<long>();
        long exact = hasCompletion.logical_and(wrong.eq(RootedScalars.Zero)).sum().item<long>();
        return new CompletionScores(nll, targets.shape[0], exact, examples);
    }

    public void Dispose() { }

    /// <summary>The flat indices (into [B·L]) of the positions where <paramref name="counted"/> [B, L] holds.</summary>
    private static Tensor Positions(Tensor counted) => counted.flatten().nonzero().squeeze(-1);

    /// <summary>The logits [N, V] of the positions at flat indices <paramref name="rows"/>.</summary>
    private Tensor Logits(IReadOnlyDictionary<string, Tensor> parameters, Tensor output, Tensor rows) =>
        F.linear(output.reshape(-1, output.shape[^1]).index_select(0, rows), parameters[OutputWeight]);

    /// <summary>log_softmax in float32 (float64 for a float64 model: the gradient checks).</summary>
    private static Tensor Wide(Tensor logits) =>
        logits.to_type(logits.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32).log_softmax(-1);
}

/// <summary>A batch's (or a dataset's) completion scores: Σ −log p over its completion tokens, their count, exact matches over examples.</summary>
public sealed record CompletionScores(double NegativeLogLikelihood, long Tokens, long ExactMatches, long Examples)
{
    public CompletionScores Plus(CompletionScores other) => new(NegativeLogLikelihood + other.NegativeLogLikelihood, Tokens + other.Tokens,
        ExactMatches + other.ExactMatches, Examples + other.Examples);
}
