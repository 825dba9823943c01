using System.Security.Claims;
using AdaMerging.Api.Errors;
using AdaMerging.Domain.Jobs;
using AdaMerging.Infrastructure.Options;
using AdaMerging.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;

namespace AdaMerging.Api.Access;

/// <summary>Per-owner limits: bytes stored (413 past it) and merges queued or running (429 past it).</summary>
public static class OwnerQuotas
{
    /// <summary>The most an upload may add for this owner: the upload limit, or what is left of the owner's storage.</summary>
    public static async Task<long> UploadAllowanceAsync(AdaMergingDbContext db, ClaimsPrincipal user, AdaMergingOptions options, long uploadLimit, CancellationToken ct)
    {
        var owner = user.Owner();
        var stored = await db.Checkpoints.Where(c => c.Owner == owner).SumAsync(c => c.Bytes, ct)
            + await db.Heads.Where(h => h.Owner == owner).SumAsync(h => h.Bytes, ct)
            + await db.Datasets.Where(d => d.Owner == owner).SumAsync(d => d.Bytes, ct);
        var left = options.MaxStoredBytesPerOwner - stored;
        if (left <= 0)
            throw ApiProblemException.TooLarge($"owner '{owner}' stores {stored} bytes, the limit of {options.MaxStoredBytesPerOwner}; delete something first",
                ProblemCodes.StorageQuota);
        return Math.Min(uploadLimit, left);
    }

    public static Task EnsureMergeSlotAsync(AdaMergingDbContext db, ClaimsPrincipal user, AdaMergingOptions options, CancellationToken ct) =>
        EnsureMergeSlotsAsync(db, user, options, 1, ct);

    /// <summary>Room for <paramref name="wanted"/> more merges beside the owner's queued and running ones (an experiment's all at once, or none).</summary>
    public static async Task EnsureMergeSlotsAsync(AdaMergingDbContext db, ClaimsPrincipal user, AdaMergingOptions options, int wanted, CancellationToken ct)
    {
        var owner = user.Owner();
        var active = await db.Merges.CountAsync(m => m.Owner == owner && (m.Status == MergeStatus.Queued || m.Status == MergeStatus.Running), ct);
        if (active + wanted > options.MaxActiveMergesPerOwner)
            throw ApiProblemException.TooMany(wanted == 1
                    ? $"owner '{owner}' has {active} merges queued or running, the limit of {options.MaxActiveMergesPerOwner}; wait for one to finish"
                    : $"owner '{owner}' has {active} merges queued or running; {wanted} more would pass the limit of {options.MaxActiveMergesPerOwner}",
                ProblemCodes.MergeQuota);
    }
}
