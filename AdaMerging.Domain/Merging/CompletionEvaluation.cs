using AdaMerging.Domain.Models;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Merging;

/// <summary>
/// One model's scores on a language-model task's completions (docs/algorithm.md, "Language-model tasks"): the mean
/// negative log-likelihood per completion token given its prompt (nats), its perplexity exp(NLL), and the share of
/// completions greedy decoding reproduces exactly.
/// </summary>
public sealed record CompletionQuality(double NegativeLogLikelihood, double Perplexity, double ExactMatch)
{
    public static CompletionQuality Of(CompletionScores s) =>
        new(s.NegativeLogLikelihood / s.Tokens, Math.Exp(s.NegativeLogLikelihood / s.Tokens), (double)s.ExactMatches / s.Examples);
}

/// <summary>A language-model task's completion scores for the merged model, beside the base, the task's own fine-tuned model and task arithmetic; null where not measured.</summary>
public sealed record TaskCompletions(string Task, CompletionQuality? Merged, CompletionQuality? Base, CompletionQuality? Individual, CompletionQuality? TaskArithmetic);

/// <summary>The report's table for language-model tasks (<see cref="EvaluationColumns"/>), as <see cref="MergeEvaluation"/>'s for classifiers.</summary>
public static class CompletionEvaluation
{
    /// <param name="merged">The merged model's tensors; they are disposed once its column is done (write them first).</param>
    public static List<TaskCompletions> Evaluate(ITaskVectorSet vectors, IFeatureStages model, TaskInputs tasks, IReadOnlyList<string> taskNames,
        Dictionary<string, Tensor> merged, double taskArithmeticLambda, int batchSize, BaselineCache? cache, CancellationToken ct)
    {
        var evaluated = Enumerable.Range(0, taskNames.Count).Where(k => tasks.CompletionEvaluation(k) is not null).ToList();
        return [.. EvaluationColumns.Of(vectors, tasks, evaluated, merged, taskArithmeticLambda, (k, parameters) =>
            {
                var (prompts, head) = tasks.CompletionEvaluation(k)!.Value;
                var scores = Evaluation.Completions(model, parameters, head, prompts, batchSize, ct);
                return scores.Tokens > 0 ? CompletionQuality.Of(scores)
                    : throw new ArgumentException($"task '{taskNames[k]}': the evaluation data has no completion tokens to score (prompts with completions are needed)");
            }, cache)
            .Select(c => new TaskCompletions(taskNames[c.Task], c.Merged, c.Base, c.Individual, c.TaskArithmetic))];
    }

    /// <summary>The mean over the evaluated tasks: NLL and exact match averaged, perplexity as exp of the mean NLL (their geometric mean); null when none was evaluated.</summary>
    public static TaskCompletions? Average(IReadOnlyList<TaskCompletions> rows)
    {
        if (rows.Count == 0) return null;
        CompletionQuality? Mean(Func<TaskCompletions, CompletionQuality?> column)
        {
            var values = rows.Select(column).OfType<CompletionQuality>().ToList();
            if (values.Count == 0) return null;
            double nll = values.Average(v => v.NegativeLogLikelihood);
            return new CompletionQuality(nll, Math.Exp(nll), values.Average(v => v.ExactMatch));
        }
        return new TaskCompletions("average", Mean(r => r.Merged), Mean(r => r.Base), Mean(r => r.Individual), Mean(r => r.TaskArithmetic));
    }
}
