using AdaMerging.Domain.Models;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Merging;

/// <summary>One evaluated task's score for each model of the report's table.</summary>
public sealed record TaskColumns<T>(int Task, T Merged, T Base, T Individual, T TaskArithmetic);

/// <summary>
/// The report's table, column by column, whatever a task's score is (a classifier's accuracy, a language model's
/// completion scores): the merged model first and then released, then the base's, task arithmetic's and each task's
/// own, so one model exists at a time beside θ0 and the vectors: (K + 2) · N (docs/algorithm.md, "Memory").
/// </summary>
public static class EvaluationColumns
{
    /// <param name="merged">The merged model's tensors; they are disposed once its column is done (write them first).</param>
    /// <param name="score">Task k's score of a model given as its tensors (the fixed ones the forward needs added).</param>
    /// <param name="cache">Baseline scores remembered from earlier merges: a column whose every task is known builds no model.</param>
    public static List<TaskColumns<T>> Of<T>(ITaskVectorSet vectors, TaskInputs tasks, IReadOnlyList<int> evaluated, Dictionary<string, Tensor> merged,
        double taskArithmeticLambda, Func<int, Dictionary<string, Tensor>, T> score, BaselineCache? cache = null)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        Dictionary<string, Tensor> With(Dictionary<string, Tensor> p) => tasks.WithFixed(p, vectors);
        Tensor Scalar(double v) => tensor(v, dtype: ScalarType.Float32, device: vectors.Device);
        Dictionary<int, T> Column(BaselineColumn column, Func<Dictionary<string, Tensor>> build, IEnumerable<int> over)
        {
            var keys = over.ToDictionary(k => k, k => cache?.Key(column, k));
            var scores = new Dictionary<int, T>();
            foreach (var (k, key) in keys)
                if (key is not null && cache!.Store.TryGet(key, out T? known) && known is not null) scores[k] = known;
            var missing = keys.Keys.Where(k => !scores.ContainsKey(k)).ToList();
            if (missing.Count == 0) return scores;
            using var columnScope = NewDisposeScope();
            var parameters = With(build());
            foreach (int k in missing)
            {
                scores[k] = score(k, parameters);
                if (keys[k] is { } key) cache!.Store.Put(key, scores[k]);
            }
            return scores;
        }
        var withMerged = evaluated.ToDictionary(k => k, k => score(k, With(merged)));
        ModelParameters.Dispose(merged);
        var withBase = Column(BaselineColumn.Base, vectors.BaseParameters, evaluated);
        var ta = Column(BaselineColumn.TaskArithmetic, () => TaskVectorSets.Combine(vectors, (_, _) => Scalar(taskArithmeticLambda)), evaluated);
        var individual = evaluated.ToDictionary(k => k,
            k => Column(BaselineColumn.Individual, () => TaskVectorSets.Combine(vectors, (_, j) => Scalar(j == k ? 1.0 : 0.0)), [k])[k]);
        return [.. evaluated.Select(k => new TaskColumns<T>(k, withMerged[k], withBase[k], individual[k], ta[k]))];
    }
}
