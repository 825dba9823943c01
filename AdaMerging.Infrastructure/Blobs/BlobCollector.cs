using AdaMerging.Domain.Jobs;
using AdaMerging.Infrastructure.Options;
using AdaMerging.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AdaMerging.Infrastructure.Blobs;

/// <summary>
/// Removes blobs nothing references any more: no checkpoint file, head, dataset or merge result names their SHA-256.
/// A blob published (or re-published by an upload of the same bytes) less than <c>BlobGraceSeconds</c> ago is left
/// for the next sweep, because its row may not be saved yet; so deleting never races an upload of the same bytes.
/// </summary>
public sealed partial class BlobCollector(BlobStore blobs, AdaMergingDbContext db, IOptions<AdaMergingOptions> options, TimeProvider time,
    ILogger<BlobCollector> logger)
{
    /// <summary>Removes those of <paramref name="candidates"/> that are unreferenced and past the grace period; returns the bytes freed.</summary>
    public async Task<long> CollectAsync(IEnumerable<string> candidates, CancellationToken ct)
    {
        var wanted = candidates.Distinct(StringComparer.Ordinal).Where(blobs.Exists).ToList();
        if (wanted.Count == 0) return 0;
        var referenced = await ReferencedAsync(wanted, ct);
        return wanted.Where(s => !referenced.Contains(s)).Sum(Remove);
    }

    /// <summary>Every blob in the store that nothing references, past the grace period; returns the bytes freed.</summary>
    public async Task<long> SweepAsync(CancellationToken ct)
    {
        var all = blobs.All().ToList();
        var referenced = await ReferencedAsync(null, ct);
        return all.Where(s => !referenced.Contains(s)).Sum(Remove);
    }

    /// <summary>Removes the results of merges that succeeded longer than <c>ResultRetentionSeconds</c> ago; returns how many.</summary>
    public async Task<int> ExpireResultsAsync(CancellationToken ct)
    {
        var cutoff = time.GetUtcNow() - TimeSpan.FromSeconds(options.Value.ResultRetentionSeconds);
        var due = (await db.Merges.Where(m => m.Status == MergeStatus.Succeeded && m.FinishedAt < cutoff).ToListAsync(ct))
            .Where(m => !m.ResultsExpired).ToList();
        if (due.Count == 0) return 0;
        var shas = due.SelectMany(m => m.ResultFiles.Select(f => f.Sha256)).ToList();
        due.ForEach(m => m.ExpireResults());
        await db.SaveChangesAsync(ct);
        await CollectAsync(shas, ct);
        return due.Count;
    }

    private long Remove(string sha256)
    {
        var path = blobs.PathOf(sha256);
        var info = new FileInfo(path);
        if (!info.Exists || time.GetUtcNow() - info.LastWriteTimeUtc < TimeSpan.FromSeconds(options.Value.BlobGraceSeconds)) return 0;
        try
        {
            File.Delete(path);
            LogRemoved(sha256, info.Length);
            return info.Length;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0; // removed by another collector first
        }
    }

    /// <summary>The SHA-256s that rows reference (of <paramref name="among"/> only, when given).</summary>
    private async Task<HashSet<string>> ReferencedAsync(List<string>? among, CancellationToken ct)
    {
        var checkpointFiles = db.Checkpoints.SelectMany(c => c.Files.Select(f => f.Sha256));
        var heads = db.Heads.Select(h => h.Sha256);
        var datasets = db.Datasets.Select(d => d.Sha256);
        if (among is not null)
        {
            checkpointFiles = checkpointFiles.Where(s => among.Contains(s));
            heads = heads.Where(s => among.Contains(s));
            datasets = datasets.Where(s => among.Contains(s));
        }
        var referenced = new HashSet<string>(await checkpointFiles.ToListAsync(ct), StringComparer.Ordinal);
        referenced.UnionWith(await heads.ToListAsync(ct));
        referenced.UnionWith(await datasets.ToListAsync(ct));
        // Results are a JSON column: read per succeeded merge (one row each, a handful of files).
        foreach (var files in await db.Merges.Where(m => m.Status == MergeStatus.Succeeded).Select(m => m.ResultFiles).ToListAsync(ct))
            referenced.UnionWith(files.Select(f => f.Sha256));
        return referenced;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Removed blob {Sha256} ({Bytes} bytes): nothing references it any more")]
    private partial void LogRemoved(string sha256, long bytes);
}
