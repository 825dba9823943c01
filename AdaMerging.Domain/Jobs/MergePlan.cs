namespace AdaMerging.Domain.Jobs;

/// <summary>One task with its inputs resolved to files on disk.</summary>
public sealed record PlannedTask(string Name, IReadOnlyDictionary<string, string> CheckpointFiles, string? HeadPath, string? AdaptationPath, string? EvaluationPath);

/// <summary>A merge with every input resolved to files: what the queued job and the command line both run.</summary>
public sealed record MergePlan(string Method, MergeOptions Options, IReadOnlyDictionary<string, string> BaseFiles, IReadOnlyList<PlannedTask> Tasks);

public sealed record MergeProgress(string Phase, int Step, int TotalSteps, double? Objective, TimeSpan Elapsed);
