using AdaMerging.Infrastructure.Options;
using AdaMerging.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AdaMerging.Infrastructure.Blobs;

/// <summary>
/// Forgets what is only kept for a while: resumable uploads past their expiry (unfinished ones lose their partial
/// bytes; docs/api.md "Resumable uploads"), partial files no upload row names, and expired Idempotency-Keys.
/// </summary>
public sealed partial class UploadExpiry(BlobStore blobs, AdaMergingDbContext db, DatabaseConnection database, IOptions<AdaMergingOptions> options,
    TimeProvider time, ILogger<UploadExpiry> logger)
{
    /// <summary>Returns the partial bytes removed.</summary>
    public async Task<long> ExpireAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        long freed = 0;
        foreach (var upload in await db.Uploads.Where(u => u.ExpiresAt <= now).ToListAsync(ct))
        {
            // A PATCH still writing holds the lock (and moves the expiry on when it ends): leave it to the next sweep.
            await using var held = await AdvisoryLock.TryAcquireAsync(database, AdvisoryLock.Upload(upload.Id), ct);
            if (held is null) continue;
            if (await db.Uploads.Where(u => u.Id == upload.Id && u.ExpiresAt <= now).ExecuteDeleteAsync(ct) == 0) continue;
            freed += Delete(blobs.UploadPath(upload.Id));
            if (!upload.Complete) LogAbandoned(upload.Id, upload.Offset, upload.Length);
        }
        // A file whose row never got saved (or was deleted under it): nothing can resume it.
        var grace = TimeSpan.FromSeconds(options.Value.BlobGraceSeconds);
        var files = blobs.Uploads().Where(f => now - File.GetLastWriteTimeUtc(f.Path) > grace).ToList();
        var ids = files.Select(f => f.Id).ToList();
        var known = (await db.Uploads.Where(u => ids.Contains(u.Id)).Select(u => u.Id).ToListAsync(ct)).ToHashSet();
        freed += files.Where(f => !known.Contains(f.Id)).Sum(f => Delete(f.Path));
        await db.IdempotencyKeys.Where(k => k.ExpiresAt <= now).ExecuteDeleteAsync(ct);
        return freed;
    }

    private static long Delete(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) return 0;
        try
        {
            info.Delete();
            return info.Length;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Abandoned upload {UploadId} expired with {Offset} of {Length} bytes; its partial file is removed")]
    private partial void LogAbandoned(Guid uploadId, long offset, long length);
}
