using AdaMerging.Domain.Architectures;
using AdaMerging.Domain.Methods;
using AdaMerging.Domain.Tensors;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Merging;

/// <summary>
/// A merged model's batch-norm statistics re-estimated on the tasks' unlabeled adaptation images, after any method
/// (docs/algorithm.md, "Batch normalisation"): the merged running statistics are overwritten in place, so what is
/// written and evaluated is the recomputed model.
/// </summary>
public static class BatchNormRecompute
{
    /// <summary>
    /// Whether a merge recomputes: its base has batch norms and the option says recompute, or auto where every task
    /// gives adaptation data and some task's running statistics moved from the base's (its batch norms were trained).
    /// Checkpoints fine-tuned with frozen batch norms all carry the base's statistics, which the heads were trained
    /// on; recomputing them cost 56 points on the ResNet-18 benchmark (docs/reproduction.md, "ResNet-18"), so auto keeps them.
    /// </summary>
    public static bool Applies(MethodOptions options, ModelSpec? model, TaskInputs tasks, ITensorSource theta0, IReadOnlyList<ITensorSource> checkpoints) =>
        model is { HasBatchNorm: true } && CommonOptions.BatchNorm.In(options) switch
        {
            BatchNormStatistics.Recompute => true,
            BatchNormStatistics.Auto => tasks.AllHaveAdaptation && StatisticsMoved(model, theta0, checkpoints),
            _ => false,
        };

    /// <summary>Whether any task's running mean or variance differs from the base's in any element.</summary>
    public static bool StatisticsMoved(ModelSpec model, ITensorSource theta0, IReadOnlyList<ITensorSource> checkpoints)
    {
        using var _ = no_grad();
        foreach (var entry in theta0.Tensors.Where(t => model.IsRunningStatistic(t.Name)))
        {
            using var base0 = theta0.Read(entry.Name, ScalarType.Float32);
            foreach (var task in checkpoints.Where(c => c.Find(entry.Name) is not null))
            {
                using var statistic = task.Read(entry.Name, ScalarType.Float32);
                using var same = statistic.equal(base0).all();
                if (!same.item<bool>()) return true;
            }
        }
        return false;
    }

    /// <summary>Recomputes the merged model's statistics (those of its merged tensors) in place; returns the layers recomputed.</summary>
    public static IReadOnlyCollection<string> Run(IModel model, MergeContext context, Dictionary<string, Tensor> merged, CancellationToken ct)
    {
        if (model is not IBatchNormalised normalised) throw new InvalidOperationException("the model has no batch norms to recompute");
        var parameters = context.Tasks.WithFixed(merged, context.Vectors);
        var rows = Enumerable.Range(0, context.Vectors.TaskCount).Select(context.Tasks.AdaptationRows).ToList();
        return BatchStatistics.Recompute(normalised, parameters, rows, (int)CommonOptions.EvaluationBatchSize.In(context.Options), ct);
    }
}
