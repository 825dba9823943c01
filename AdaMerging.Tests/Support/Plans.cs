using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Methods;

namespace AdaMerging.Tests.Support;

/// <summary>Merge plans as the tests write them: a method's name and its options as JSON, over local files.</summary>
public static class Plans
{
    public static MergePlan For(string method, string optionsJson, IReadOnlyDictionary<string, string> baseFiles, IReadOnlyList<PlannedTask> tasks)
    {
        var m = MergeMethods.Get(method);
        return new MergePlan(m, MethodOptions.FromJson(m, optionsJson), baseFiles, tasks);
    }

    /// <summary>A plan over single-file checkpoints without heads or data.</summary>
    public static MergePlan Files(string method, string optionsJson, string basePath, IEnumerable<string> taskPaths) =>
        For(method, optionsJson, new Dictionary<string, string> { ["model.safetensors"] = basePath },
            taskPaths.Select((t, i) => new PlannedTask($"t{i}", new Dictionary<string, string> { ["model.safetensors"] = t }, null, null, null)).ToList());
}
