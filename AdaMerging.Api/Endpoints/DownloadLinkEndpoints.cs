using AdaMerging.Api.Setup;
using System.Security.Claims;
using AdaMerging.Api.Access;
using AdaMerging.Api.Errors;
using AdaMerging.Infrastructure.Blobs;
using AdaMerging.Infrastructure.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace AdaMerging.Api.Endpoints;

/// <param name="File">A file of the merged folder (model.safetensors, report.json, …) or "archive" for all of them as one zip.</param>
/// <param name="ExpiresInSeconds">How long the link works: 60 s to 7 days; default one hour.</param>
public sealed record DownloadLinkRequest(string File, int? ExpiresInSeconds = null);

/// <param name="Url">The link, relative to the service: GET it without any key.</param>
public sealed record DownloadLinkResponse(string Url, string File, DateTimeOffset ExpiresAt);

/// <summary>
/// Signed links to a succeeded merge's results (<see cref="DownloadLinks"/>): made with the key, used without it, so
/// that a browser's own download (resumable, straight to disk) or a script without the key can fetch a model.
/// </summary>
public static class DownloadLinkEndpoints
{
    public const int DefaultSeconds = 3600, MinSeconds = 60, MaxSeconds = 7 * 24 * 3600;

    public static WebApplication MapDownloadLinks(this WebApplication app)
    {
        app.MapPost("/merges/{id:guid}/links", Create).WithName("createDownloadLink").WithTags("Merges")
            .WithSummary("A link to one result of a succeeded merge that works without the key, until it expires or the key is revoked")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status410Gone);
        app.MapGet("/downloads/{token}", Download).WithName("downloadByLink").WithTags("Merges").AllowAnonymous()
            .WithSummary("Download what a link names (no key needed; Range resumes a file)")
            .Produces(StatusCodes.Status200OK, contentType: "application/octet-stream").WithHeaders(ProtocolHeaders.File)
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status410Gone);
        return app;
    }

    public static async Task<Created<DownloadLinkResponse>> Create(Guid id, DownloadLinkRequest request, AdaMergingDbContext db, TimeProvider time,
        ClaimsPrincipal user, CancellationToken ct)
    {
        var seconds = request.ExpiresInSeconds ?? DefaultSeconds;
        if (seconds is < MinSeconds or > MaxSeconds)
            throw ApiProblemException.Invalid($"expiresInSeconds must be {MinSeconds}-{MaxSeconds} (7 days), not {seconds}");
        if (string.IsNullOrEmpty(request.File)) throw ApiProblemException.Invalid($"file: a result file's name or '{MergeDownloads.ArchiveName}' is required");
        var job = await db.Merges.AsNoTracking().VisibleTo(user).SingleOrDefaultAsync(m => m.Id == id, ct)
            ?? throw ApiProblemException.NotFound($"merge {id} does not exist");
        var file = MergeDownloads.Existing(MergeDownloads.Succeeded(job), request.File);
        var keyId = Guid.Parse(user.FindFirstValue(ClaimTypes.NameIdentifier)!);
        var key = await db.ApiKeys.AsNoTracking().SingleAsync(k => k.Id == keyId, ct);
        // Whole seconds: the token carries Unix seconds, and the answer states exactly when it stops working.
        var expires = DateTimeOffset.FromUnixTimeSeconds(time.GetUtcNow().ToUnixTimeSeconds() + seconds);
        var token = DownloadLinks.Token(new DownloadGrant(keyId, id, file, expires), key.Hash);
        return TypedResults.Created($"/downloads/{token}", new DownloadLinkResponse($"/downloads/{token}", file, expires));
    }

    public static async Task<IResult> Download(string token, AdaMergingDbContext db, BlobStore blobs, TimeProvider time, HttpContext http, CancellationToken ct)
    {
        const string invalid = "this download link is not valid (mistyped, or its key was revoked); make a new one with POST /merges/{id}/links";
        var grant = DownloadLinks.Read(token) ?? throw ApiProblemException.NotFound(invalid);
        var key = await db.ApiKeys.AsNoTracking().SingleOrDefaultAsync(k => k.Id == grant.KeyId && k.RevokedAt == null, ct);
        if (key is null || !DownloadLinks.Verify(token, grant, key.Hash)) throw ApiProblemException.NotFound(invalid);
        if (time.GetUtcNow() >= grant.ExpiresAt)
            throw new ApiProblemException(StatusCodes.Status410Gone, "Gone", $"this download link expired at {grant.ExpiresAt:u}; make a new one")
            { Code = "link_expired" };
        var job = await db.Merges.AsNoTracking().Where(m => m.Id == grant.MergeId && (key.IsAdmin || m.Owner == key.Owner)).SingleOrDefaultAsync(ct)
            ?? throw ApiProblemException.NotFound($"merge {grant.MergeId} does not exist any more");
        return MergeDownloads.Named(MergeDownloads.Succeeded(job), grant.File, blobs, http);
    }
}
