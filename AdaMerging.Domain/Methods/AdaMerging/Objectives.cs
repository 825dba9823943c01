using AdaMerging.Domain.Compute;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Methods;

/// <summary>What AdaMerging minimises for each task (docs/algorithm.md, "Objectives").</summary>
public enum AdaMergingObjective
{
    /// <summary>The mean entropy of the merged model's predictions on the task's unlabeled data: the paper's.</summary>
    Entropy,

    /// <summary>
    /// The mean KL(expert ‖ merged) of the predictions on the task's unlabeled data, the expert being the task's own
    /// fine-tuned model (θ0 + τk): for language models, where plain entropy drives coefficients to extremes.
    /// </summary>
    ExpertKl,
}

/// <summary>The objectives over a task's predictions, as log-probabilities [N, C] (a row per prediction counted), meaned over the rows.</summary>
public static class Objectives
{
    /// <summary>H = −Σc p_c log p_c, from log-probabilities so it stays finite for any logits; the mean over the rows.</summary>
    public static Tensor Entropy(Tensor logP) => -(logP.exp() * logP).sum(-1).mean();

    /// <summary>
    /// KL(expert ‖ merged) = Σc p_e,c (log p_e,c − log p_c), the mean over the rows; the expert's side is a constant
    /// (computed without a graph), so the gradient is −Σc p_e,c ∂log p_c. A class the expert gives probability 0 adds 0.
    /// </summary>
    public static Tensor KlFromExpert(Tensor expertLogP, Tensor logP)
    {
        if (!expertLogP.shape.SequenceEqual(logP.shape))
            throw new ArgumentException($"the expert's predictions [{string.Join(", ", expertLogP.shape)}] do not match the model's [{string.Join(", ", logP.shape)}]");
        var expert = expertLogP.to_type(logP.dtype);
        return (expert.exp() * expert.sub(logP)).sum(-1).mean();
    }
}
