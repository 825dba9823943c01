using System.Text.Json;
using AdaMerging.Domain.Methods;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Merging;
using AdaMerging.Infrastructure.Contract;

namespace AdaMerging.Worker.Cli;

/// <summary>
/// The API's merge request with local paths where the API takes ids: a checkpoint is a model folder or a single
/// weights file; heads and datasets are files. It becomes the same <see cref="MergePlan"/> the queued job runs.
/// </summary>
public sealed record LocalMergeRequest(string Method, string Base, IReadOnlyList<LocalMergeTask> Tasks, IReadOnlyDictionary<string, JsonElement>? Options = null)
{
    public static LocalMergeRequest Read(string path) =>
        JsonSerializer.Deserialize<LocalMergeRequest>(File.ReadAllText(path), JsonSerializerOptions.Web)
        ?? throw new ArgumentException($"{path} holds no request");

    public MergePlan ToPlan(string relativeTo)
    {
        string Resolve(string p) => Path.GetFullPath(p, relativeTo);
        string? Optional(string? p) => p is null ? null : File.Exists(Resolve(p)) ? Resolve(p) : throw new ArgumentException($"{p} does not exist");
        var shape = new MergeRequest(Method, Guid.NewGuid(), Tasks.Select(t => new MergeTask(t.Name, Guid.NewGuid(),
            t.Head is null ? null : Guid.NewGuid(), t.AdaptationData is null ? null : Guid.NewGuid(), t.EvaluationData is null ? null : Guid.NewGuid())).ToList(), Options);
        var problems = shape.Problems().Select(p => p.Detail).ToList();
        if (Options?.ContainsKey(AdaMergingMethod.CoefficientsFrom.Name) == true)
            problems.Add("options.coefficientsFrom refers to the service's merges: give options.coefficients (an earlier merge's coefficients.json) here");
        if (problems.Count > 0) throw new ArgumentException(string.Join("; ", problems));
        return shape.ToPlan(Folder(Resolve(Base)),
            Tasks.Select(t => new PlannedTask(t.Name, Folder(Resolve(t.Checkpoint)), Optional(t.Head), Optional(t.AdaptationData), Optional(t.EvaluationData),
                CardName(Resolve(t.Checkpoint)))).ToList(),
            CardName(Resolve(Base)));
    }

    /// <summary>What the model card calls a checkpoint: its folder's name (a weights file's folder when given one file).</summary>
    private static string CardName(string path) =>
        Path.GetFileName(Path.TrimEndingDirectorySeparator(Directory.Exists(path) ? path : Path.GetDirectoryName(path) ?? path));

    /// <summary>A folder's checkpoint files by name, or one weights file on its own.</summary>
    private static Dictionary<string, string> Folder(string path) =>
        Directory.Exists(path)
            ? Directory.GetFiles(path).Where(f => ModelFolder.FileNameProblem(Path.GetFileName(f)) is null).ToDictionary(f => Path.GetFileName(f), f => f)
            : File.Exists(path) ? new Dictionary<string, string> { [Path.GetFileName(path)] = path }
            : throw new ArgumentException($"{path} does not exist");
}

public sealed record LocalMergeTask(string Name, string Checkpoint, string? Head = null, string? AdaptationData = null, string? EvaluationData = null);
