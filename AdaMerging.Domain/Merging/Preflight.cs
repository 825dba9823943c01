using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Heads;
using AdaMerging.Domain.Tensors;

namespace AdaMerging.Domain.Merging;

/// <summary>One task of a merge as the pre-flight check sees it: headers and stored metadata, never tensor data.</summary>
public sealed record PreflightTask(string Name, ITensorCatalog Checkpoint, HeadInfo? Head, DatasetInfo? Adaptation, DatasetInfo? Evaluation);

/// <summary>
/// Everything that can be known wrong about a merge before it runs: fine-tuned checkpoints that do not match the
/// base, heads whose feature size is not the encoder's, datasets whose images do not fit the model, labels a head
/// cannot predict. Reads headers only, so it answers in milliseconds.
/// </summary>
public static class Preflight
{
    public static IReadOnlyList<string> Check(ITensorCatalog baseCatalog, ClipVisionConfig? config, int? featureSize, IReadOnlyList<PreflightTask> tasks)
    {
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
                if (config is not null) problems.AddRange(data.Mismatches(config, $"{label} {role} dataset"));
                if (task.Head is { } h && data.MaxLabel is { } max && max >= h.Classes)
                    problems.Add($"{label} {role} dataset has label {max} but the head has {h.Classes} classes");
            }
            if (task.Evaluation is { HasLabels: false })
                problems.Add($"{label} evaluation dataset has no labels");
        }
        return problems;
    }
}
