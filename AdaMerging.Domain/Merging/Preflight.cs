using AdaMerging.Domain.Architectures;
using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Heads;
using AdaMerging.Domain.Methods.Options;
using AdaMerging.Domain.Tensors;

namespace AdaMerging.Domain.Merging;

/// <summary>One task of a merge as the pre-flight check sees it: headers and stored metadata, never tensor data.</summary>
public sealed record PreflightTask(string Name, ITensorCatalog Checkpoint, HeadInfo? Head, DatasetInfo? Adaptation, DatasetInfo? Evaluation);

/// <summary>
/// Everything that can be known wrong about a merge before it runs: fine-tuned checkpoints that do not match the
/// base, heads whose feature size is not the model's, datasets of another modality or whose examples do not fit the model, labels a head
/// cannot predict. Reads headers only, so it answers in milliseconds.
/// </summary>
public static class Preflight
{
    /// <param name="model">The base's model as its architecture recognised it; null when none did (then nothing is known of its input).</param>
    public static IReadOnlyList<string> Check(ITensorCatalog baseCatalog, ModelSpec? model, IReadOnlyList<PreflightTask> tasks)
    {
        int? featureSize = model?.FeatureSize;
        var problems = new List<string>();
        if (CheckpointCompatibility.NothingShared(baseCatalog, [.. tasks.Select(t => t.Checkpoint)]) is { } nothing) problems.Add(nothing);
        foreach (var task in tasks)
        {
            var label = $"task '{task.Name}'";
            problems.AddRange(CheckpointCompatibility.Differences(baseCatalog, $"{label} checkpoint", task.Checkpoint));
            if (task.Head is { } head && featureSize is { } d && head.FeatureSize != d)
                problems.Add($"{label} head takes {head.FeatureSize} features where the encoder gives {d}");
            foreach (var (role, data) in new[] { ("adaptation", task.Adaptation), ("evaluation", task.Evaluation) })
            {
                if (data is null) continue;
                if (model is not null) problems.AddRange(DataProblems(model, data, $"{label} {role} dataset"));
                if (task.Head is { } h && data.MaxLabel is { } max && max >= h.Classes)
                    problems.Add($"{label} {role} dataset has label {max} but the head has {h.Classes} classes");
            }
            if (task.Evaluation is { HasLabels: false })
                problems.Add($"{label} evaluation dataset has no labels");
        }
        return problems;
    }

    /// <summary>A dataset of another modality than the model's input, named with both; else what the model finds wrong with it.</summary>
    private static IReadOnlyList<string> DataProblems(ModelSpec model, DatasetInfo data, string label) => data.Modality != model.Input
        ? [$"{label} holds {WireName.Of(data.Modality)} where the model ({model.Architecture.Name}: {model.Describe()}) takes {WireName.Of(model.Input)}"]
        : model.DataProblems(data, label);
}
