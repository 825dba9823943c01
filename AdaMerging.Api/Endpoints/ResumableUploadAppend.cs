using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using AdaMerging.Api.Access;
using AdaMerging.Api.Errors;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Store;
using AdaMerging.Infrastructure.Blobs;
using AdaMerging.Infrastructure.Options;
using AdaMerging.Infrastructure.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace AdaMerging.Api.Endpoints;

/// <summary>
/// tus PATCH (docs/api.md, "Resumable uploads"): appends the body at the offset the client names, which must be the
/// bytes the server has. One PATCH at a time per upload, across hosts (an advisory lock; a second answers 423). A cut
/// connection keeps every byte that arrived. The last byte completes the file: its SHA-256 must equal the declared
/// one (else the upload is discarded, 422), its format is checked, and it is put into the checkpoint as a blob, or
/// stored as the head or dataset it was declared to be.
/// </summary>
public static class ResumableUploadAppend
{
    public static async Task<NoContent> PatchAsync(Guid id, HttpContext http, AdaMergingDbContext db, BlobStore blobs, DatabaseConnection database,
        TimeProvider time, IOptions<UploadLimits> limits, IOptions<AdaMergingOptions> service, ClaimsPrincipal user)
    {
        var ct = http.RequestAborted;
        if (!MediaTypeHeaderValue.TryParse(http.Request.ContentType, out var type) || !type.MediaType.Equals(ResumableUploadEndpoints.OffsetContentType, StringComparison.OrdinalIgnoreCase))
            throw new ApiProblemException(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                $"a PATCH body is {ResumableUploadEndpoints.OffsetContentType}");
        if (!long.TryParse(http.Request.Headers["Upload-Offset"], NumberStyles.None, CultureInfo.InvariantCulture, out var offset))
            throw ApiProblemException.Invalid("Upload-Offset must be the byte the body starts at (a non-negative integer)");
        await using var held = await LockAsync(database, id, ct);
        var upload = await ResumableUploadEndpoints.FindAsync(id, db, user, time, ct, tracked: true);
        var have = ResumableUploadEndpoints.ReceivedBytes(upload, blobs);
        if (offset != have)
            throw new ApiProblemException(StatusCodes.Status409Conflict, "Offset mismatch",
                $"the server has {have} bytes of upload {id}; PATCH from Upload-Offset: {have}")
            {
                Code = "upload_offset_mismatch",
                Headers = new Dictionary<string, string> { ["Upload-Offset"] = have.ToString(CultureInfo.InvariantCulture), ["Tus-Resumable"] = ResumableUploadEndpoints.Version },
            };
        if (!upload.Complete)
        {
            if (http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
                size.MaxRequestBodySize = upload.Length - have + 1; // the body is bounded by the declared length, not the default 30 MB
            var (received, cut) = await AppendAsync(http.Request.Body, blobs.UploadPath(id), have, upload.Length, ct);
            Uploads.Count(http.Request, received - have);
            upload.Received(received, time.GetUtcNow(), ResumableUploadEndpoints.Lifetime(service.Value));
            await db.SaveChangesAsync(CancellationToken.None); // the client may be gone: record what arrived anyway
            if (cut) return TypedResults.NoContent(); // nobody reads this answer; HEAD tells the client where to resume
            if (received == upload.Length) await CompleteAsync(upload, db, blobs, limits.Value, time.GetUtcNow(), CancellationToken.None);
        }
        ResumableUploadHeaders.Describe(http.Response, upload, ResumableUploadEndpoints.ReceivedBytes(upload, blobs));
        return TypedResults.NoContent();
    }

    /// <summary>The upload's lock, or a 423 while another PATCH (or DELETE) holds it.</summary>
    internal static async Task<AdvisoryLock> LockAsync(DatabaseConnection database, Guid id, CancellationToken ct) =>
        await AdvisoryLock.TryAcquireAsync(database, AdvisoryLock.Upload(id), ct)
            ?? throw new ApiProblemException(StatusCodes.Status423Locked, "Upload in use",
                $"another request is writing upload {id}; retry when it has ended (HEAD gives the offset)") { Code = "upload_locked" };

    /// <summary>Appends at most up to the declared length; a body that goes past it is refused once the file is full.</summary>
    private static async Task<(long Received, bool Cut)> AppendAsync(Stream body, string path, long have, long length, CancellationToken ct)
    {
        var buffer = new byte[1 << 20];
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.Read, 1, FileOptions.None);
        file.Seek(have, SeekOrigin.Begin);
        file.SetLength(have); // bytes past what HEAD reported never count
        long received = have;
        try
        {
            int read;
            while ((read = await body.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, length - received + 1)), ct)) > 0)
            {
                if (received + read > length)
                {
                    await file.WriteAsync(buffer.AsMemory(0, (int)(length - received)), CancellationToken.None);
                    received = length;
                    await file.FlushAsync(CancellationToken.None);
                    throw ApiProblemException.Invalid($"the body goes past Upload-Length {length}; the bytes up to it are kept");
                }
                await file.WriteAsync(buffer.AsMemory(0, read), CancellationToken.None);
                received += read;
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or BadHttpRequestException)
        {
            await file.FlushAsync(CancellationToken.None);
            return (received, true); // the connection was cut: what arrived stays, the client resumes from it
        }
        await file.FlushAsync(CancellationToken.None);
        return (received, false);
    }

    private static async Task CompleteAsync(ResumableUpload upload, AdaMergingDbContext db, BlobStore blobs, UploadLimits limits, DateTimeOffset now,
        CancellationToken ct)
    {
        var path = blobs.UploadPath(upload.Id);
        string sha;
        await using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan))
            sha = Convert.ToHexStringLower(await SHA256.HashDataAsync(file, ct));
        try
        {
            if (sha != upload.ExpectedSha256)
                throw ApiProblemException.Unprocessable("Checksum mismatch", $"the file's SHA-256 is {sha}, not the declared {upload.ExpectedSha256}; "
                    + "the upload is discarded, create a new one", [], code: "checksum_mismatch");
            if (upload.Target == UploadTarget.Checkpoint)
            {
                CheckpointSealing.CheckFile(upload.FileName, path, limits);
                var checkpoint = await db.Checkpoints.SingleOrDefaultAsync(c => c.Id == upload.CheckpointId, ct);
                if (checkpoint is not { Status: CheckpointStatus.Open })
                    throw ApiProblemException.Conflict($"checkpoint {upload.CheckpointId} is {(checkpoint is null ? "deleted" : "sealed")}; the upload is discarded");
                blobs.Publish(path, sha);
                checkpoint.PutFile(new CheckpointFile(upload.FileName, sha, upload.Length));
                upload.Completed(sha);
            }
            else
            {
                IStoredBlobResource resource = upload.Target == UploadTarget.Head ? HeadEndpoints.Resource : DatasetEndpoints.Resource;
                var made = resource.FromFile(path, upload.ResourceName ?? upload.FileName, new StoredFile(sha, upload.Length), limits, now);
                made.OwnedBy(upload.Owner);
                blobs.Publish(path, sha);
                db.Add(made);
                upload.Completed(sha, made.Id);
            }
            await db.SaveChangesAsync(ct);
        }
        catch (ApiProblemException)
        {
            db.ChangeTracker.Clear();
            await db.Uploads.Where(u => u.Id == upload.Id).ExecuteDeleteAsync(ct);
            File.Delete(path);
            throw;
        }
    }
}
