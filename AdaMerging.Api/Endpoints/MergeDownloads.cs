using AdaMerging.Api.Errors;
using AdaMerging.Domain.Jobs;
using AdaMerging.Domain.Tensors;
using AdaMerging.Infrastructure.Blobs;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AdaMerging.Api.Endpoints;

/// <summary>A succeeded merge's results as responses: one file (resumable with Range) or the whole folder as a zip.</summary>
public static class MergeDownloads
{
    /// <summary>What a download link may name besides the folder's files.</summary>
    public const string ArchiveName = "archive";

    /// <summary>The merge, if it has succeeded (409 otherwise); one whose results expired is 410 unless <paramref name="expiredToo"/> (the report outlives them).</summary>
    public static MergeJob Succeeded(MergeJob job, bool expiredToo = false)
    {
        if (job.ResultsExpired && !expiredToo)
            throw ApiProblemException.Gone($"merge {job.Id}'s results were removed when their retention ended; its report remains at /merges/{job.Id}/report");
        return job.Status == MergeStatus.Succeeded ? job
            : throw ApiProblemException.Conflict($"merge {job.Id} is {job.Status.ToString().ToLowerInvariant()}; its results exist once it has succeeded");
    }

    /// <summary>The file's name if the merge has it; a 404 listing what it has otherwise.</summary>
    public static string Existing(MergeJob job, string fileName) =>
        fileName == ArchiveName || job.ResultFiles.Any(f => f.FileName == fileName) ? fileName
            : throw ApiProblemException.NotFound($"merge {job.Id} has no file '{fileName}'; it has {string.Join(", ", job.ResultFiles.Select(f => f.FileName))}"
                + $" (or '{ArchiveName}': all of them as one zip)");

    public static IResult Named(MergeJob job, string fileName, BlobStore blobs, HttpContext http) =>
        fileName == ArchiveName ? Archive(job, blobs, http) : File(job, fileName, blobs);

    public static PhysicalFileHttpResult Model(MergeJob job, BlobStore blobs) => File(job, ShardedSafetensorsWriter.SingleFileName, blobs);

    public static PhysicalFileHttpResult File(MergeJob job, string fileName, BlobStore blobs)
    {
        var file = job.ResultFiles.FirstOrDefault(f => f.FileName == Existing(job, fileName))!;
        var type = fileName.EndsWith(".json", StringComparison.Ordinal) ? "application/json" : "application/octet-stream";
        // The SHA-256 is the ETag: If-None-Match answers 304, If-Range and Range resume a download.
        return TypedResults.PhysicalFile(blobs.PathOf(file.Sha256), type, fileName, enableRangeProcessing: true,
            entityTag: new Microsoft.Net.Http.Headers.EntityTagHeaderValue($"\"{file.Sha256}\""));
    }

    /// <summary>
    /// The zip is made as it streams (nothing stored twice), so it offers no byte ranges; its weak ETag, over the files'
    /// SHA-256s, lets a client skip a download it has (If-None-Match: 304). Resume a cut download file by file (docs/api.md, "Downloads").
    /// </summary>
    public static IResult Archive(MergeJob job, BlobStore blobs, HttpContext http)
    {
        var etag = ArchiveTag(job);
        http.Response.Headers.ETag = etag;
        if (http.Request.GetTypedHeaders().IfNoneMatch.Any(t => t.Tag == "*" || t.ToString() == etag))
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        // ZipArchive finishes entries with synchronous writes; allow them for this one response.
        if (http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpBodyControlFeature>() is { } body) body.AllowSynchronousIO = true;
        var ct = http.RequestAborted;
        return TypedResults.Stream(async stream =>
        {
            // Safetensors barely compress: store them, so the archive streams at disk speed without buffering.
            await using var zip = new System.IO.Compression.ZipArchive(stream, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true);
            foreach (var file in job.ResultFiles)
            {
                var level = file.FileName.EndsWith(".safetensors", StringComparison.Ordinal)
                    ? System.IO.Compression.CompressionLevel.NoCompression : System.IO.Compression.CompressionLevel.Optimal;
                await using var entry = await zip.CreateEntry($"merged-{job.Id}/{file.FileName}", level).OpenAsync(ct);
                await using var source = System.IO.File.OpenRead(blobs.PathOf(file.Sha256));
                await source.CopyToAsync(entry, ct);
            }
        }, "application/zip", $"merged-{job.Id}.zip");
    }

    /// <summary>W/"…" over the files' names and SHA-256s: the same files make the same zip's contents.</summary>
    public static string ArchiveTag(MergeJob job)
    {
        var listing = string.Join("\n", job.ResultFiles.Select(f => $"{f.FileName} {f.Sha256}"));
        return $"W/\"{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(listing)))[..32]}\"";
    }
}
