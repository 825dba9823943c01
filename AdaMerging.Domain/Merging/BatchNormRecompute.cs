using AdaMerging.Domain.Architectures;
using AdaMerging.Domain.Methods;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Merging;

/// <summary>
/// A merged model's batch-norm statistics re-estimated on the tasks' unlabeled adaptation images, after any method
/// (docs/algorithm.md, "Batch normalisation"): the merged running statistics are overwritten in place, so what is
/// written and evaluated is the recomputed model.
/// </summary>
public static class BatchNormRecompute
{
    /// <summary>Whether a merge recomputes: its base has batch norms and the option says recompute, or auto with every task's adaptation data.</summary>
    public static bool Applies(MethodOptions options, ModelSpec? model, TaskInputs tasks) => model is { HasBatchNorm: true }
        && CommonOptions.BatchNorm.In(options) switch
        {
            BatchNormStatistics.Recompute => true,
            BatchNormStatistics.Auto => tasks.AllHaveAdaptation,
            _ => false,
        };

    /// <summary>Recomputes the merged model's statistics (those of its merged tensors) in place; returns the layers recomputed.</summary>
    public static IReadOnlyCollection<string> Run(IModel model, MergeContext context, Dictionary<string, Tensor> merged, CancellationToken ct)
    {
        if (model is not IBatchNormalised normalised) throw new InvalidOperationException("the model has no batch norms to recompute");
        var parameters = context.Tasks.WithFixed(merged, context.Vectors);
        var rows = Enumerable.Range(0, context.Vectors.TaskCount).Select(context.Tasks.AdaptationRows).ToList();
        return BatchStatistics.Recompute(normalised, parameters, rows, (int)CommonOptions.EvaluationBatchSize.In(context.Options), ct);
    }
}
