using System.Security.Claims;
using AdaMerging.Api.Access;
using AdaMerging.Api.Errors;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Heads;
using AdaMerging.Domain.Jobs;
using AdaMerging.Infrastructure.Contract;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Merging.Streaming;
using AdaMerging.Domain.Methods;
using AdaMerging.Domain.Store;
using AdaMerging.Infrastructure.Blobs;
using AdaMerging.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;

namespace AdaMerging.Api.Endpoints;

/// <summary>
/// Refuses, before anything is queued, a merge that could not succeed: unknown or unsealed inputs (all named at once),
/// and whatever <see cref="Preflight"/> finds in the headers and stored metadata.
/// </summary>
public static class MergePreflight
{
    public static async Task CheckAsync(MergeRequest request, AdaMergingDbContext db, BlobStore blobs, ClaimsPrincipal user, long memoryLimit, CancellationToken ct)
    {
        // The stored resources of each kind (an earlier merge named by coefficientsFrom was checked when it was resolved).
        var named = request.Named().Where(n => n.Role != MergeInputRole.Coefficients).Select(n => (n.Pointer, Kind: KindOf(n.Role), n.Id)).ToList();
        List<Guid> Ids(string kind) => [.. named.Where(n => n.Kind == kind).Select(n => n.Id).Distinct()];
        List<Guid> checkpointIds = Ids(Checkpoint), headIds = Ids(Head), dataIds = Ids(Dataset);
        var checkpoints = await db.Checkpoints.AsNoTracking().VisibleTo(user).Where(c => checkpointIds.Contains(c.Id)).ToDictionaryAsync(c => c.Id, ct);
        var heads = await db.Heads.AsNoTracking().VisibleTo(user).Where(h => headIds.Contains(h.Id)).ToDictionaryAsync(h => h.Id, ct);
        var datasets = await db.Datasets.AsNoTracking().VisibleTo(user).Where(d => dataIds.Contains(d.Id)).ToDictionaryAsync(d => d.Id, ct);
        var missing = named.Where(n => n.Kind switch
            {
                Checkpoint => !checkpoints.ContainsKey(n.Id),
                Head => !heads.ContainsKey(n.Id),
                _ => !datasets.ContainsKey(n.Id),
            }).Select(n => new RequestProblem(n.Pointer, RequestProblemCode.NotFound, $"{n.Kind} {n.Id} does not exist")).ToList();
        if (missing.Count > 0)
            throw ApiProblemException.NotFound($"{string.Join(", ", missing.Select(m => m.Detail).Distinct())}", missing);
        var open = named.Where(n => n.Kind == Checkpoint && checkpoints[n.Id].Status != CheckpointStatus.Sealed)
            .Select(n => new RequestProblem(n.Pointer, RequestProblemCode.NotSealed, $"checkpoint {n.Id} is not sealed")).ToList();
        if (open.Count > 0) throw ApiProblemException.Invalid("every checkpoint must be sealed before it is merged", open);

        var folders = new Dictionary<Guid, ModelFolder>();
        try
        {
            foreach (var (id, checkpoint) in checkpoints) folders[id] = blobs.OpenFolder(checkpoint);
            var theta0 = folders[request.Base];
            var (method, options) = request.Resolve();
            var (taskWeights, _) = TaskWeights.Read(options, [.. request.Tasks.Select(t => t.Name)], [.. request.Tasks.Select(t => folders[t.Checkpoint])], theta0);
            var tasks = request.Tasks.Select((t, k) =>
            {
                var weights = taskWeights[k];
                var classifier = t.Head is null ? CheckpointHeads.Info(theta0.Spec, weights) : null;
                return new PreflightTask(t.Name, weights, t.Head is { } h ? heads[h].Info : classifier,
                    t.AdaptationData is { } a ? datasets[a].Info : null, t.EvaluationData is { } e ? datasets[e].Info : null,
                    HeadInCheckpoint: classifier is not null);
            }).ToList();
            var problems = Preflight.Check(theta0.Weights, theta0.Spec, tasks, method.NeedsHeads, CommonOptions.MaxSequenceLength.In(options)).ToList();
            if (CheckpointCompatibility.BaseProblem(theta0) is { } notAModel)
                problems.Insert(0, new RequestProblem(RequestProblem.At("base"), RequestProblemCode.CheckpointMismatch, notAModel));
            if (problems.Count == 0)
            {
                var merged = TaskVectors.MergedNames(theta0.Weights, [.. tasks.Select(t => t.Checkpoint)], CommonOptions.Excluded(options, theta0.Spec));
                problems.AddRange(method.PlanProblems(options, new MergeShape(merged, request.Tasks.Count, theta0.Spec)));
                bool evaluates = tasks.Any(t => t.Evaluates);
                bool streams = StreamedMergeWriter.Applies(method, evaluates || tasks.Any(t => t.Adaptation is not null), theta0) is not null;
                var shape = RunMemory.Shape(options, theta0.Spec, theta0.Weights, [.. tasks.Select(t => t.Checkpoint)], evaluates,
                    streams ? StreamedMergeWriter.DefaultWorkingBytes : 0, tasks.Any(t => t.Prompts));
                if (MemoryLimit.Problem(RunMemory.Estimate(method, options, shape), memoryLimit, "MergeMemoryLimitBytes") is { } tooBig) problems.Add(tooBig);
            }
            if (problems.Count > 0) throw ApiProblemException.Unprocessable("the merge's inputs do not fit together", problems);
        }
        finally
        {
            foreach (var folder in folders.Values) folder.Dispose();
        }
    }

    private const string Checkpoint = "checkpoint", Head = "head", Dataset = "dataset";

    private static string KindOf(MergeInputRole role) => role switch
    {
        MergeInputRole.Base or MergeInputRole.Checkpoint => Checkpoint,
        MergeInputRole.Head => Head,
        _ => Dataset,
    };
}
