using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Jobs;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Methods;
using AdaMerging.Tests.Support;

namespace AdaMerging.Tests.Domain.Merging;

/// <summary>
/// Language-model tasks before a merge runs (docs/algorithm.md, "Language-model tasks"): prompts need no heads and a
/// model that predicts tokens; a merge does not mix prompts with labelled data; evaluation prompts need completions;
/// and the memory estimate counts the next-token scores and, for expert_kl, the experts' held predictions.
/// </summary>
public sealed class LanguageModelPreflightTests
{
    private static readonly DatasetInfo Prompts = new(DatasetFormat.JsonLines, 20, 0, null, null, false, null, null, DatasetModality.Prompts);
    private static readonly DatasetInfo PromptsWithCompletions = Prompts with { HasLabels = true };
    private static readonly DatasetInfo Text = new(DatasetFormat.JsonLines, 20, 0, null, null, true, 1, null, DatasetModality.Text);

    [Fact]
    public void Prompt_tasks_of_a_causal_language_model_need_no_heads()
    {
        using var lm = LlamaTiny.Open("llama3_causal_lm");
        var problems = Preflight.Check(lm.Weights, lm.Spec, [new PreflightTask("a", lm.Weights, null, Prompts, PromptsWithCompletions),
            new PreflightTask("b", lm.Weights, null, Prompts, null)], needsHeads: true);
        // The fixture's folder has no tokenizer: that is the only problem, and no head is asked for.
        Assert.All(problems, p => Assert.Contains("tokenizer", p.Detail, StringComparison.Ordinal));
        Assert.DoesNotContain(problems, p => p.Code == RequestProblemCode.Required);
    }

    [Fact]
    public void Prompts_for_a_model_without_an_output_over_the_vocabulary_mixed_kinds_and_prompts_without_completions_are_named()
    {
        using var classifier = LlamaTiny.Open("llama_classifier");
        var noTokens = Preflight.Check(classifier.Weights, classifier.Spec, [new PreflightTask("a", classifier.Weights, null, Prompts, null)], needsHeads: true);
        Assert.Contains(noTokens, p => p.Pointer == "/tasks/0/adaptationData" && p.Code == RequestProblemCode.DataMismatch
            && p.Detail.Contains("is not a causal language model", StringComparison.Ordinal));

        using var lm = LlamaTiny.Open("llama3_causal_lm");
        var mixed = Preflight.Check(lm.Weights, lm.Spec, [new PreflightTask("a", lm.Weights, null, Prompts, null),
            new PreflightTask("b", lm.Weights, null, Text, null), new PreflightTask("c", lm.Weights, null, null, null)]);
        Assert.Contains(mixed, p => p.Pointer == "/tasks/1" && p.Code == RequestProblemCode.DataMismatch && p.Detail.Contains("mixes kinds", StringComparison.Ordinal));
        Assert.DoesNotContain(mixed, p => p.Pointer == "/tasks/2");   // a task without data mixes nothing

        var unscored = Preflight.Check(lm.Weights, lm.Spec, [new PreflightTask("a", lm.Weights, null, Prompts, Prompts)]);
        Assert.Contains(new RequestProblem("/tasks/0/evaluationData", RequestProblemCode.LabelsMissing,
            "task 'a' evaluation dataset has prompts without completions: nothing to score"), unscored);
    }

    [Fact]
    public void The_estimate_counts_the_next_token_scores_and_expert_kl_s_held_predictions()
    {
        using var lm = LlamaTiny.Open("llama3_causal_lm");
        var method = MergeMethods.Get("adamerging");
        long Estimate(string json, bool languageModelling)
        {
            var options = MethodOptions.FromJson(method, json);
            var shape = RunMemory.Shape(options, lm.Spec, lm.Weights, [lm.Weights, lm.Weights], evaluates: false, languageModelling: languageModelling);
            return RunMemory.Estimate(method, options, shape);
        }
        long scores = 8L * lm.Spec!.Memory.TokenScores * 4;   // batch 8: 8 × tokens × vocabulary float32s
        Assert.Equal(4 * scores, Estimate("""{"batchSize": 8}""", true) - Estimate("""{"batchSize": 8}""", false));
        Assert.Equal(3 * scores, Estimate("""{"batchSize": 8, "objective": "expert_kl"}""", true) - Estimate("""{"batchSize": 8}""", true));
    }
}
