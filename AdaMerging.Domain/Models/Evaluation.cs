using AdaMerging.Domain.Datasets;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Models;

/// <summary>Top-1 accuracy of a model and a head on labeled examples, and a language model's completion scores, in batches, without gradients.</summary>
public static class Evaluation
{
    public static double Accuracy(IFeatureStages model, IReadOnlyDictionary<string, Tensor> parameters, ClassificationHead head,
        IExampleRows images, Tensor labels, int batchSize = 64, CancellationToken ct = default)
    {
        if (labels.shape[0] != images.Count) throw new ArgumentException("one label per image is needed");
        using var _ = no_grad();
        long correct = 0, n = images.Count;
        var device = parameters.Values.First().device;
        for (long start = 0; start < n; start += batchSize)
        {
            ct.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            long size = Math.Min(batchSize, n - start);
            var predicted = head.Logits(model.Features(parameters, images.ReadRange(start, size, device))).argmax(-1);
            correct += predicted.eq(labels.narrow(0, start, size).to(predicted.device)).sum().to_type(ScalarType.Int64).item<long>();
        }
        return n == 0 ? double.NaN : (double)correct / n;
    }

    /// <summary>A language model's scores on prompts with completions (<see cref="LanguageModelHead.Score"/>), summed over the dataset.</summary>
    public static CompletionScores Completions(IFeatureStages model, IReadOnlyDictionary<string, Tensor> parameters, LanguageModelHead head,
        IExampleRows prompts, int batchSize = 64, CancellationToken ct = default)
    {
        using var _ = no_grad();
        var total = new CompletionScores(0, 0, 0, 0);
        var device = parameters.Values.First().device;
        for (long start = 0; start < prompts.Count; start += batchSize)
        {
            ct.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var input = prompts.ReadRange(start, Math.Min(batchSize, prompts.Count - start), device);
            total = total.Plus(head.Score(model.Bind(parameters), model.Features(parameters, input), input));
        }
        return total;
    }
}
