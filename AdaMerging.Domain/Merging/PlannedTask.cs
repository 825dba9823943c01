namespace AdaMerging.Domain.Merging;

/// <summary>One task with its inputs resolved to files on disk.</summary>
public sealed record PlannedTask(string Name, IReadOnlyDictionary<string, string> CheckpointFiles, string? HeadPath, string? AdaptationPath, string? EvaluationPath,
    string? CheckpointName = null);
