using System.Text.Json;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Jobs;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Methods;
using AdaMerging.Infrastructure.Blobs;
using AdaMerging.Infrastructure.Contract;
using AdaMerging.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;

namespace AdaMerging.Infrastructure.Jobs;

/// <summary>
/// A queued merge as the worker runs it: its stored request (with <c>coefficientsFrom</c> resolved) over the local
/// paths of its checkpoints', heads' and datasets' blobs; an input deleted or lost since it was queued is named.
/// </summary>
public static class StoredMergePlan
{
    public static async Task<MergePlan> ReadAsync(MergeJob job, AdaMergingDbContext db, BlobStore blobs, CancellationToken ct)
    {
        var stored = JsonSerializer.Deserialize<MergeRequest>(job.RequestJson, JsonSerializerOptions.Web)
            ?? throw new InvalidOperationException("the stored request is empty");
        var (request, problem) = await CoefficientsReuse.ResolveAsync(stored, db.Merges, ct);
        if (request is null) throw new InvalidOperationException(problem?.Detail);
        var names = new Dictionary<Guid, string>();
        async Task<IReadOnlyDictionary<string, string>> Checkpoint(Guid id, string role)
        {
            var c = await db.Checkpoints.AsNoTracking().SingleOrDefaultAsync(x => x.Id == id, ct)
                ?? throw new InvalidOperationException($"{role} checkpoint {id} no longer exists");
            names[id] = c.Name;
            try
            {
                return blobs.ExistingPaths(c);
            }
            catch (CheckpointFormatException e)
            {
                throw new InvalidOperationException($"{role} {e.Message}", e);
            }
        }
        async Task<string?> Blob(Guid? id, bool head, string role)
        {
            if (id is not { } value) return null;
            var sha = head
                ? (await db.Heads.AsNoTracking().SingleOrDefaultAsync(h => h.Id == value, ct))?.Sha256
                : (await db.Datasets.AsNoTracking().SingleOrDefaultAsync(d => d.Id == value, ct))?.Sha256;
            var path = sha is null ? null : blobs.PathOf(sha);
            return path is not null && File.Exists(path) ? path : throw new InvalidOperationException($"{role} {value} no longer exists");
        }
        var tasks = new List<PlannedTask>();
        foreach (var t in request.Tasks)
            tasks.Add(new PlannedTask(t.Name, await Checkpoint(t.Checkpoint, $"task '{t.Name}'"), await Blob(t.Head, true, $"task '{t.Name}' head"),
                await Blob(t.AdaptationData, false, $"task '{t.Name}' adaptation dataset"), await Blob(t.EvaluationData, false, $"task '{t.Name}' evaluation dataset"),
                names[t.Checkpoint]));
        var baseFiles = await Checkpoint(request.Base, "base");
        return request.ToPlan(baseFiles, tasks, names[request.Base]);
    }
}
