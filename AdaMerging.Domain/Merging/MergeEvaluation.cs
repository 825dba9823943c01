using AdaMerging.Domain.Models;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Merging;

/// <summary>
/// Each task's top-1 accuracy on its labeled data for the merged model, beside the base model, the task's own
/// fine-tuned model and task arithmetic at <c>taskArithmeticLambda</c> (docs/algorithm.md, "Evaluation and the report").
/// </summary>
public static class MergeEvaluation
{
    /// <param name="merged">The merged model's tensors; they are disposed once its column is done (write them first).</param>
    public static List<TaskAccuracy> Evaluate(ITaskVectorSet vectors, IFeatureStages model, TaskInputs tasks, IReadOnlyList<string> taskNames,
        Dictionary<string, Tensor> merged, double taskArithmeticLambda, int batchSize, BaselineCache? cache, CancellationToken ct)
    {
        var evaluated = Enumerable.Range(0, taskNames.Count).Where(k => tasks.Evaluation(k) is not null).ToList();
        return [.. EvaluationColumns.Of(vectors, tasks, evaluated, merged, taskArithmeticLambda, (k, parameters) =>
            {
                var (images, labels, head) = tasks.Evaluation(k)!.Value;
                return Evaluation.Accuracy(model, parameters, head, images, labels, batchSize, ct);
            }, cache)
            .Select(c => new TaskAccuracy(taskNames[c.Task], c.Merged, c.Base, c.Individual, c.TaskArithmetic))];
    }

    /// <summary>The mean of each column over the evaluated tasks; null when none was evaluated.</summary>
    public static TaskAccuracy? Average(IReadOnlyList<TaskAccuracy> rows) => rows.Count == 0 ? null : new TaskAccuracy("average",
        rows.Average(r => r.Merged), rows.Average(r => r.Base), rows.Average(r => r.Individual), rows.Average(r => r.TaskArithmetic));
}
