using AdaMerging.Api.Errors;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Tensors;
using AdaMerging.Infrastructure.Blobs;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace AdaMerging.Api.Endpoints;

/// <summary>
/// Upload bodies streamed into the blob store's temp folder while hashed (never buffered whole, never written twice):
/// the raw body as one file, or each file part of a multipart/form-data body.
/// </summary>
public static class Uploads
{
    public sealed record File(string? Name, StagedBlob Blob);

    /// <summary>Stages every file of the request; the caller commits or disposes them.</summary>
    public static async Task<List<File>> StageAsync(HttpRequest request, BlobStore blobs, long maxBytes, int maxFiles, CancellationToken ct)
    {
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
            size.MaxRequestBodySize = maxBytes + (1 << 20);
        var staged = new List<File>();
        try
        {
            if (!IsMultipart(request, out var boundary))
            {
                staged.Add(new File(null, await blobs.StageAsync(request.Body, maxBytes, ct)));
                Count(request, staged[0].Blob.Bytes);
                return staged;
            }
            var reader = new MultipartReader(boundary, request.Body);
            long total = 0;
            while (await reader.ReadNextSectionAsync(ct) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) || !disposition.IsFileDisposition())
                    continue;
                if (staged.Count == maxFiles) throw ApiProblemException.Invalid($"at most {maxFiles} file(s) per upload");
                var blob = await blobs.StageAsync(section.Body, maxBytes - total, ct);
                total += blob.Bytes;
                Count(request, blob.Bytes);
                staged.Add(new File(HeaderUtilities.RemoveQuotes(disposition.FileName).Value, blob));
            }
            return staged.Count > 0 ? staged : throw ApiProblemException.Invalid("the multipart body has no file part");
        }
        catch
        {
            Discard(staged);
            throw;
        }
    }

    /// <summary>
    /// One file, checked by <paramref name="inspect"/> (whose format errors become a 400 saying <paramref name="what"/>),
    /// committed to the store only once it passed, then recorded by <paramref name="record"/>.
    /// </summary>
    public static async Task<TEntity> StoreOneAsync<TInfo, TEntity>(HttpRequest request, BlobStore blobs, long maxBytes, string what,
        Func<string, TInfo> inspect, Func<File, TInfo, TEntity> record)
    {
        var staged = await StageAsync(request, blobs, maxBytes, 1, request.HttpContext.RequestAborted);
        try
        {
            var info = Checked(staged[0].Blob.Path, what, inspect);
            staged[0].Blob.Commit();
            return record(staged[0], info);
        }
        finally
        {
            Discard(staged);
        }
    }

    /// <summary>What <paramref name="inspect"/> finds in the file; its format errors become a 400 saying <paramref name="what"/> it is not.</summary>
    public static TInfo Checked<TInfo>(string path, string what, Func<string, TInfo> inspect)
    {
        try
        {
            return inspect(path);
        }
        catch (Exception e) when (e is CheckpointFormatException or SafetensorsFormatException)
        {
            throw ApiProblemException.Invalid($"not a usable {what}: {e.Message}");
        }
    }

    /// <summary>Counts received bytes in the uploaded-bytes metric, by resource (the path's first segment).</summary>
    public static void Count(HttpRequest request, long bytes) =>
        request.HttpContext.RequestServices.GetRequiredService<Setup.ApiMetrics>()
            .Uploaded(request.Path.Value?.Split('/', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "other", bytes);

    public static void Discard(IEnumerable<File> files)
    {
        foreach (var f in files) f.Blob.Dispose();
    }

    public static string DisplayName(string? name, string fallback)
    {
        name = Path.GetFileName(name?.Trim() ?? "");
        return string.IsNullOrEmpty(name) ? fallback : name.Length > 256 ? name[..256] : name;
    }

    private static bool IsMultipart(HttpRequest request, out string boundary)
    {
        boundary = "";
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
            || !type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
            return false;
        boundary = HeaderUtilities.RemoveQuotes(type.Boundary).Value ?? "";
        return !string.IsNullOrEmpty(boundary) ? true : throw ApiProblemException.Invalid("multipart/form-data without a boundary");
    }
}
