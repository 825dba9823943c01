using AdaMerging.Domain.Methods;

namespace AdaMerging.Domain.Merging;

/// <summary>One task with its inputs resolved to files on disk.</summary>
public sealed record PlannedTask(string Name, IReadOnlyDictionary<string, string> CheckpointFiles, string? HeadPath, string? AdaptationPath, string? EvaluationPath);

/// <summary>A merge with its method, its resolved options and every input resolved to files: what a merge run executes.</summary>
public sealed record MergePlan(IMergeMethod Method, MethodOptions Options, IReadOnlyDictionary<string, string> BaseFiles, IReadOnlyList<PlannedTask> Tasks);
