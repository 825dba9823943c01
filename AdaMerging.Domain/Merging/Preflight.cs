using AdaMerging.Domain.Architectures;
using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Heads;
using AdaMerging.Domain.Jobs;
using AdaMerging.Domain.Methods.Options;
using AdaMerging.Domain.Tensors;

namespace AdaMerging.Domain.Merging;

/// <summary>One task of a merge as the pre-flight check sees it: headers and stored metadata, never tensor data.</summary>
/// <param name="Head">Its head resource's, or else its checkpoint's classifier's (<see cref="HeadInCheckpoint"/>); null when it has neither.</param>
public sealed record PreflightTask(string Name, ITensorCatalog Checkpoint, HeadInfo? Head, DatasetInfo? Adaptation, DatasetInfo? Evaluation,
    bool HeadInCheckpoint = false)
{
    /// <summary>A language-model task: its data are prompts (its head is the model's own output).</summary>
    public bool Prompts => Adaptation?.Modality == DatasetModality.Prompts || Evaluation?.Modality == DatasetModality.Prompts;

    /// <summary>Whether the merge evaluates this task: it has evaluation data and a head, or is a language-model task.</summary>
    public bool Evaluates => Evaluation is not null && (Head is not null || Prompts);
}

/// <summary>
/// Everything that can be known wrong about a merge before it runs: fine-tuned checkpoints that do not match the
/// base, heads whose feature size is not the model's, datasets of another modality or whose examples do not fit the model, labels a head
/// cannot predict. Reads headers only, so it answers in milliseconds.
/// </summary>
public static class Preflight
{
    /// <param name="model">The base's model as its architecture recognised it; null when none did (then nothing is known of its input).</param>
    /// <param name="tasks">The request's tasks in its order: problem i's pointer is into <c>/tasks/i</c>.</param>
    /// <param name="needsHeads">The method's: every task needs a head (a resource, or its checkpoint's classifier).</param>
    /// <param name="maxSequenceLength">The merge's maxSequenceLength option (0: the model's default): a text model refuses more than its positions.</param>
    public static IReadOnlyList<RequestProblem> Check(ITensorCatalog baseCatalog, ModelSpec? model, IReadOnlyList<PreflightTask> tasks, bool needsHeads = false,
        long maxSequenceLength = 0)
    {
        int? featureSize = model?.FeatureSize;
        var problems = new List<RequestProblem>();
        if (model?.MaxSequenceLength is { } positions && maxSequenceLength > positions)
            problems.Add(new(RequestProblem.At("options", Methods.CommonOptions.MaxSequenceLength.Name), RequestProblemCode.Invalid,
                $"maxSequenceLength {maxSequenceLength} is more than the model's {positions} positions ({model.Describe()})"));
        if (CheckpointCompatibility.NothingShared(baseCatalog, [.. tasks.Select(t => t.Checkpoint)]) is { } nothing)
            problems.Add(new("", RequestProblemCode.NothingShared, nothing));
        bool languageModelling = tasks.Any(t => t.Prompts);
        var mixed = tasks.Select((t, i) => (t, i)).Where(x => (x.t.Adaptation ?? x.t.Evaluation) is not null && x.t.Prompts != languageModelling || (x.t.Prompts && new[] { x.t.Adaptation, x.t.Evaluation }
            .Any(d => d is not null && d.Modality != DatasetModality.Prompts))).ToList();
        problems.AddRange(mixed.Select(x => new RequestProblem(RequestProblem.At("tasks", x.i), RequestProblemCode.DataMismatch,
            $"task '{x.t.Name}' mixes kinds: a merge's tasks are all language-model tasks (prompt datasets) or all classification tasks")));
        for (int i = 0; i < tasks.Count; i++)
        {
            var task = tasks[i];
            var label = $"task '{task.Name}'";
            problems.AddRange(CheckpointCompatibility.Differences(baseCatalog, $"{label} checkpoint", task.Checkpoint, model)
                .Select(d => new RequestProblem(RequestProblem.At("tasks", i, "checkpoint"), RequestProblemCode.CheckpointMismatch, d)));
            var headAt = RequestProblem.At("tasks", i, task.HeadInCheckpoint ? "checkpoint" : "head");
            if (task.Head is { } head && featureSize is { } d && head.FeatureSize != d)
                problems.Add(new(headAt, RequestProblemCode.HeadMismatch,
                    $"{label} {(task.HeadInCheckpoint ? "checkpoint's classifier" : "head")} takes {head.FeatureSize} features where the encoder gives {d}"));
            if (task.Head is null && !task.Prompts && (needsHeads || task.Evaluation is not null))
                problems.Add(new(RequestProblem.At("tasks", i, "head"), RequestProblemCode.Required,
                    $"{label} needs a head {(needsHeads ? "for the method" : "to evaluate with")}: a head resource"
                    + (model?.Classifier is var (w, _) ? $", or a checkpoint that carries its classifier ('{w}')" : "")));
            foreach (var (role, field, data) in new[] { ("adaptation", "adaptationData", task.Adaptation), ("evaluation", "evaluationData", task.Evaluation) })
            {
                if (data is null) continue;
                var at = RequestProblem.At("tasks", i, field);
                if (model is not null)
                    problems.AddRange(DataProblems(model, baseCatalog, data, $"{label} {role} dataset").Select(p => new RequestProblem(at, RequestProblemCode.DataMismatch, p)));
                if (task.Head is { } h && data.MaxLabel is { } max && max >= h.Classes)
                    problems.Add(new(at, RequestProblemCode.LabelOutOfRange, $"{label} {role} dataset has label {max} but the {(task.HeadInCheckpoint ? "checkpoint's classifier" : "head")} has {h.Classes} classes"));
            }
            if (task.Evaluation is { HasLabels: false } evaluation)
                problems.Add(new(RequestProblem.At("tasks", i, "evaluationData"), RequestProblemCode.LabelsMissing, evaluation.Modality == DatasetModality.Prompts
                    ? $"{label} evaluation dataset has prompts without completions: nothing to score" : $"{label} evaluation dataset has no labels"));
        }
        return problems;
    }

    /// <summary>
    /// A dataset of another modality than the model's input, named with both (prompts need a causal language model);
    /// else what the model finds wrong with it.
    /// </summary>
    private static IReadOnlyList<string> DataProblems(ModelSpec model, ITensorCatalog weights, DatasetInfo data, string label) => data.Modality switch
    {
        DatasetModality.Prompts when model.TokenScores(weights) is null =>
            [$"{label} holds prompts and the base ({model.Architecture.Name}: {model.Describe()}) is not a causal language model: it has no output over the vocabulary (lm_head or tied embeddings)"],
        DatasetModality.Prompts => model.DataProblems(data, label),
        var m when m != model.Input =>
            [$"{label} holds {WireName.Of(data.Modality)} where the model ({model.Architecture.Name}: {model.Describe()}) takes {WireName.Of(model.Input)}"],
        _ => model.DataProblems(data, label),
    };
}
