using AdaMerging.Api.Errors;
using AdaMerging.Domain.Jobs;
using AdaMerging.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;

namespace AdaMerging.Api.Endpoints;

/// <summary>
/// What every DELETE checks first: that no queued or running merge still needs the resource. A submit and a delete
/// of one of its inputs are serialised by a transaction-scoped advisory lock per input id (<see cref="LockInputsAsync"/>),
/// so a merge is never queued on an input whose delete had already checked it unused.
/// </summary>
public static class Deletion
{
    /// <summary>
    /// Opens a transaction holding the lock of each id (in id order, so two submits never deadlock); the caller's
    /// checks and writes happen inside it and it ends with the caller's commit.
    /// </summary>
    public static async Task<Microsoft.EntityFrameworkCore.Storage.IDbContextTransaction> LockInputsAsync(AdaMergingDbContext db, IEnumerable<Guid> ids,
        CancellationToken ct)
    {
        var transaction = await db.Database.BeginTransactionAsync(ct);
        foreach (var id in ids.Distinct().Order())
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({AdvisoryLock.IdOf(AdvisoryLock.Input(id))})", ct);
        return transaction;
    }

    /// <summary>409 naming the queued or running merges that use <paramref name="id"/>, from the merges' input rows.</summary>
    public static async Task EnsureUnusedAsync(AdaMergingDbContext db, Guid id, string what, CancellationToken ct)
    {
        var users = await db.MergeInputs.AsNoTracking().Where(i => i.ResourceId == id)
            .Join(db.Merges.Where(m => m.Status == MergeStatus.Queued || m.Status == MergeStatus.Running), i => i.MergeId, m => m.Id, (i, m) => m.Id)
            .Distinct().OrderBy(m => m).ToListAsync(ct);
        if (users.Count > 0)
            throw ApiProblemException.Conflict($"{what} {id} is used by queued or running merge {string.Join(", ", users)}; cancel it or wait for it to finish");
    }
}
