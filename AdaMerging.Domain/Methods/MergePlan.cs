using AdaMerging.Domain.Merging;

namespace AdaMerging.Domain.Methods;

/// <summary>A merge with its method, its resolved options and every input resolved to files: what a merge run executes.</summary>
/// <param name="BaseName">What the base is called (its upload's name, or its folder): the model card's base_model.</param>
public sealed record MergePlan(IMergeMethod Method, MethodOptions Options, IReadOnlyDictionary<string, string> BaseFiles, IReadOnlyList<PlannedTask> Tasks,
    string BaseName = "base");
