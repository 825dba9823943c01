using AdaMerging.Domain.Models;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Merging;

/// <summary>
/// Each task's top-1 accuracy on its labeled data for the merged model, beside the base model, the task's own
/// fine-tuned model and task arithmetic at <c>taskArithmeticLambda</c> (docs/algorithm.md, "Evaluation and the report").
/// </summary>
public static class MergeEvaluation
{
    /// <remarks>
    /// Column by column, the merged model first and then released, so that one model exists at a time beside θ0 and
    /// the vectors (the base, task arithmetic's, then each task's own): (K + 2) · N (docs/algorithm.md, "Memory").
    /// </remarks>
    /// <param name="merged">The merged model's tensors; they are disposed once its column is done (write them first).</param>
    public static List<TaskAccuracy> Evaluate(ITaskVectorSet vectors, IFeatureStages model, TaskInputs tasks, IReadOnlyList<string> taskNames,
        Dictionary<string, Tensor> merged, double taskArithmeticLambda, int batchSize, CancellationToken ct)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        Dictionary<string, Tensor> With(Dictionary<string, Tensor> p) => tasks.WithFixed(p, vectors);
        Tensor Scalar(double v) => tensor(v, dtype: ScalarType.Float32, device: vectors.Device);
        var evaluated = Enumerable.Range(0, taskNames.Count).Where(k => tasks.Evaluation(k) is not null).ToList();
        double Accuracy(int k, Dictionary<string, Tensor> parameters)
        {
            var (images, labels, head) = tasks.Evaluation(k)!.Value;
            return Evaluation.Accuracy(model, parameters, head, images, labels, batchSize, ct);
        }
        Dictionary<int, double> Column(Func<Dictionary<string, Tensor>> build, IEnumerable<int> over)
        {
            using var columnScope = NewDisposeScope();
            var parameters = With(build());
            return over.ToDictionary(k => k, k => Accuracy(k, parameters));
        }
        var withMerged = evaluated.ToDictionary(k => k, k => Accuracy(k, With(merged)));
        ModelParameters.Dispose(merged);
        var withBase = Column(vectors.BaseParameters, evaluated);
        var ta = Column(() => TaskVectorSets.Combine(vectors, (_, _) => Scalar(taskArithmeticLambda)), evaluated);
        var individual = evaluated.ToDictionary(k => k, k => Column(() => TaskVectorSets.Combine(vectors, (_, j) => Scalar(j == k ? 1.0 : 0.0)), [k])[k]);
        return evaluated.Select(k => new TaskAccuracy(taskNames[k], withMerged[k], withBase[k], individual[k], ta[k])).ToList();
    }

    /// <summary>The mean of each column over the evaluated tasks; null when none was evaluated.</summary>
    public static TaskAccuracy? Average(IReadOnlyList<TaskAccuracy> rows) => rows.Count == 0 ? null : new TaskAccuracy("average",
        rows.Average(r => r.Merged), rows.Average(r => r.Base), rows.Average(r => r.Individual), rows.Average(r => r.TaskArithmetic));
}
