using System.Security.Claims;
using AdaMerging.Api.Access;
using AdaMerging.Api.Errors;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Jobs;
using AdaMerging.Infrastructure.Contract;
using AdaMerging.Domain.Merging;
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
        var checkpointIds = request.Tasks.Select(t => t.Checkpoint).Prepend(request.Base).Distinct().ToList();
        var headIds = request.Tasks.Select(t => t.Head).OfType<Guid>().Distinct().ToList();
        var dataIds = request.Tasks.SelectMany(t => new[] { t.AdaptationData, t.EvaluationData }).OfType<Guid>().Distinct().ToList();
        var checkpoints = await db.Checkpoints.AsNoTracking().VisibleTo(user).Where(c => checkpointIds.Contains(c.Id)).ToDictionaryAsync(c => c.Id, ct);
        var heads = await db.Heads.AsNoTracking().VisibleTo(user).Where(h => headIds.Contains(h.Id)).ToDictionaryAsync(h => h.Id, ct);
        var datasets = await db.Datasets.AsNoTracking().VisibleTo(user).Where(d => dataIds.Contains(d.Id)).ToDictionaryAsync(d => d.Id, ct);
        var missing = Places(request).Where(p => p.Kind switch
            {
                "checkpoint" => !checkpoints.ContainsKey(p.Id),
                "head" => !heads.ContainsKey(p.Id),
                _ => !datasets.ContainsKey(p.Id),
            }).Select(p => new RequestProblem(p.Pointer, RequestProblemCode.NotFound, $"{p.Kind} {p.Id} does not exist")).ToList();
        if (missing.Count > 0)
            throw ApiProblemException.NotFound($"{string.Join(", ", missing.Select(m => m.Detail).Distinct())}", missing);
        var open = Places(request).Where(p => p.Kind == "checkpoint" && checkpoints[p.Id].Status != CheckpointStatus.Sealed)
            .Select(p => new RequestProblem(p.Pointer, RequestProblemCode.NotSealed, $"checkpoint {p.Id} is not sealed")).ToList();
        if (open.Count > 0) throw ApiProblemException.Invalid("every checkpoint must be sealed before it is merged", open);

        var folders = new Dictionary<Guid, ModelFolder>();
        try
        {
            foreach (var (id, checkpoint) in checkpoints) folders[id] = blobs.OpenFolder(checkpoint);
            var theta0 = folders[request.Base];
            var tasks = request.Tasks.Select(t => new PreflightTask(t.Name, folders[t.Checkpoint].Weights,
                t.Head is { } h ? heads[h].Info : null,
                t.AdaptationData is { } a ? datasets[a].Info : null,
                t.EvaluationData is { } e ? datasets[e].Info : null)).ToList();
            var problems = Preflight.Check(theta0.Weights, theta0.Spec, tasks).ToList();
            if (problems.Count == 0)
            {
                var (method, options) = request.Resolve();
                var merged = TaskVectors.MergedNames(theta0.Weights, [.. tasks.Select(t => t.Checkpoint)], CommonOptions.Exclude.In(options));
                problems.AddRange(method.PlanProblems(options, new MergeShape(merged, request.Tasks.Count, theta0.Spec)));
                var shape = RunMemory.Shape(options, theta0.Spec, theta0.Weights, [.. tasks.Select(t => t.Checkpoint)],
                    request.Tasks.Any(t => t.Head is not null && t.EvaluationData is not null));
                if (MemoryLimit.Problem(RunMemory.Estimate(method, options, shape), memoryLimit, "MergeMemoryLimitBytes") is { } tooBig) problems.Add(tooBig);
            }
            if (problems.Count > 0) throw ApiProblemException.Unprocessable("the merge's inputs do not fit together", problems);
        }
        finally
        {
            foreach (var folder in folders.Values) folder.Dispose();
        }
    }

    /// <summary>Every resource the request names, with where it names it (a JSON Pointer) and its kind.</summary>
    private static IEnumerable<(string Pointer, string Kind, Guid Id)> Places(MergeRequest request)
    {
        yield return (RequestProblem.At("base"), "checkpoint", request.Base);
        for (int i = 0; i < request.Tasks.Count; i++)
        {
            var t = request.Tasks[i];
            yield return (RequestProblem.At("tasks", i, "checkpoint"), "checkpoint", t.Checkpoint);
            if (t.Head is { } h) yield return (RequestProblem.At("tasks", i, "head"), "head", h);
            if (t.AdaptationData is { } a) yield return (RequestProblem.At("tasks", i, "adaptationData"), "dataset", a);
            if (t.EvaluationData is { } e) yield return (RequestProblem.At("tasks", i, "evaluationData"), "dataset", e);
        }
    }
}
