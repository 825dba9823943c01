using AdaMerging.Domain.Models;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Merging;

/// <summary>
/// Each task's top-1 accuracy on its labeled data for the merged model, beside the base model, the task's own
/// fine-tuned model and task arithmetic at <c>taskArithmeticLambda</c> (docs/algorithm.md, "Evaluation and the report").
/// </summary>
public static class MergeEvaluation
{
    public static List<TaskAccuracy> Evaluate(TaskVectors vectors, ClipModel model, TaskInputs tasks, IReadOnlyList<string> taskNames,
        Dictionary<string, Tensor> merged, double taskArithmeticLambda, int batchSize, CancellationToken ct)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var fixedParameters = tasks.FixedParameters(vectors);
        Dictionary<string, Tensor> With(Dictionary<string, Tensor> p) =>
            p.Concat(fixedParameters.Where(f => !p.ContainsKey(f.Key))).ToDictionary(StringComparer.Ordinal);
        Tensor Scalar(double v) => tensor(v, dtype: ScalarType.Float32, device: vectors.Device);
        var withMerged = With(merged);
        var withBase = With(vectors.BaseParameters());
        var ta = With(vectors.Combine((_, _) => Scalar(taskArithmeticLambda)));
        var result = new List<TaskAccuracy>();
        for (int k = 0; k < taskNames.Count; k++)
        {
            if (tasks.Evaluation(k) is not var (pixels, labels, head)) continue;
            using var perTask = NewDisposeScope();
            var individual = With(vectors.Combine((_, j) => Scalar(j == k ? 1.0 : 0.0)));
            result.Add(new TaskAccuracy(taskNames[k],
                Evaluation.Accuracy(model, withMerged, head, pixels, labels, batchSize, ct),
                Evaluation.Accuracy(model, withBase, head, pixels, labels, batchSize, ct),
                Evaluation.Accuracy(model, individual, head, pixels, labels, batchSize, ct),
                Evaluation.Accuracy(model, ta, head, pixels, labels, batchSize, ct)));
        }
        return result;
    }

    /// <summary>The mean of each column over the evaluated tasks; null when none was evaluated.</summary>
    public static TaskAccuracy? Average(IReadOnlyList<TaskAccuracy> rows) => rows.Count == 0 ? null : new TaskAccuracy("average",
        rows.Average(r => r.Merged), rows.Average(r => r.Base), rows.Average(r => r.Individual), rows.Average(r => r.TaskArithmetic));
}
