using AdaMerging.Api.Setup;
using System.Globalization;
using System.Security.Claims;
using AdaMerging.Api.Access;
using AdaMerging.Api.Errors;
using AdaMerging.Api.Idempotency;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Store;
using AdaMerging.Infrastructure.Blobs;
using AdaMerging.Infrastructure.Options;
using AdaMerging.Infrastructure.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AdaMerging.Api.Endpoints;

/// <summary>
/// Resumable uploads of one file, as tus 1.0 specifies them (core, creation, expiration, termination; docs/api.md
/// "Resumable uploads"): POST creates one for an open checkpoint, or for a new head or dataset, with the file's length and SHA-256,
/// HEAD says how many bytes arrived, PATCH appends from there (<see cref="ResumableUploadAppend"/>), DELETE abandons it.
/// </summary>
public static class ResumableUploadEndpoints
{
    public const string Version = "1.0.0";
    public const string OffsetContentType = "application/offset+octet-stream";

    public static WebApplication MapResumableUploads(this WebApplication app)
    {
        var group = app.MapGroup("/uploads").WithTags("Resumable uploads").AddEndpointFilter(RequireTusVersion);
        group.MapMethods("/", ["OPTIONS"], Options).WithName("getUploadCapabilities").WithSummary("The tus versions, extensions and largest upload this server takes")
            .Produces(StatusCodes.Status204NoContent).WithHeaders(ProtocolHeaders.TusCapabilities);
        group.MapPost("/", Create).WithName("createUpload")
            .WithSummary("Create a resumable upload of one file of an open checkpoint, or of a new head or dataset (tus creation)")
            .WithDescription("Headers: Tus-Resumable: 1.0.0, Upload-Length, and Upload-Metadata with base64 values of checkpoint (an open "
                + "checkpoint's id) or resource (head or dataset, with an optional name), filename and sha256 (the file's SHA-256 in hex). "
                + "Answers 201 with the upload's Location and Upload-Expires. A head's or dataset's upload, once complete, names the new "
                + "resource in GET /uploads/{id} (resource).")
            .WithIdempotency()
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status412PreconditionFailed)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .WithHeaders(ProtocolHeaders.TusCreation);
        group.MapMethods("/{id:guid}", ["HEAD"], Head).WithName("getUploadOffset").WithSummary("How many bytes of the upload the server has (Upload-Offset)")
            .Produces(StatusCodes.Status200OK).WithHeaders(ProtocolHeaders.TusOffset)
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status410Gone);
        group.MapPatch("/{id:guid}", ResumableUploadAppend.PatchAsync).WithName("appendUpload")
            .WithSummary("Append bytes at Upload-Offset (Content-Type: application/offset+octet-stream); the last byte completes the file")
            .WithDescription("A cut connection keeps what arrived: HEAD gives the new offset to resume from. When the last byte arrives the "
                + "file's SHA-256 is checked against the declared one and the file is put into the checkpoint (seal it afterwards), or "
                + "checked and stored as the head or dataset it was declared to be.")
            .Accepts<Stream>(OffsetContentType)
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status410Gone)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType).ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status423Locked)
            .Produces(StatusCodes.Status204NoContent).WithHeaders(ProtocolHeaders.TusAppend);
        group.MapDelete("/{id:guid}", Delete).WithName("deleteUpload").WithSummary("Abandon an upload; its partial bytes are removed (tus termination)")
            .WithHeaders(ProtocolHeaders.TusTermination)
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status423Locked);
        group.MapGet("/{id:guid}", Get).WithName("getUpload").WithSummary("An upload's state as JSON: offset, length, expiry, and once complete its SHA-256")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    private static async ValueTask<object?> RequireTusVersion(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        http.Response.Headers["Tus-Resumable"] = Version;
        if (http.Request.Method is not ("OPTIONS" or "GET") && http.Request.Headers["Tus-Resumable"] != Version)
            throw new ApiProblemException(StatusCodes.Status412PreconditionFailed, "Unsupported tus version",
                $"send Tus-Resumable: {Version}; this server speaks tus {Version}")
            { Code = "tus_version_unsupported", Headers = new Dictionary<string, string> { ["Tus-Resumable"] = Version, ["Tus-Version"] = Version } };
        return await next(context);
    }

    public static NoContent Options(HttpContext http, IOptions<UploadLimits> limits)
    {
        http.Response.Headers["Tus-Version"] = Version;
        http.Response.Headers["Tus-Extension"] = "creation,expiration,termination";
        http.Response.Headers["Tus-Max-Size"] = limits.Value.MaxUploadBytes.ToString(CultureInfo.InvariantCulture);
        return TypedResults.NoContent();
    }

    public static async Task<Created<ResumableUploadResponse>> Create(HttpRequest request, AdaMergingDbContext db, BlobStore blobs, TimeProvider time,
        IOptions<UploadLimits> limits, IOptions<AdaMergingOptions> service, ClaimsPrincipal user, CancellationToken ct)
    {
        var declared = ResumableUploadHeaders.Creation(request);
        long others = 0;
        if (declared.CheckpointId is { } checkpointId)
        {
            var checkpoint = await db.Checkpoints.AsNoTracking().VisibleTo(user).SingleOrDefaultAsync(c => c.Id == checkpointId, ct)
                ?? throw ApiProblemException.NotFound($"checkpoint {checkpointId} does not exist");
            if (checkpoint.Status != CheckpointStatus.Open) throw ApiProblemException.Conflict($"checkpoint {checkpoint.Id} is sealed; its files cannot change");
            others = checkpoint.Files.Where(f => f.FileName != declared.FileName).Sum(f => f.Bytes);
        }
        var allowance = Math.Min(limits.Value.MaxUploadBytes - others, await OwnerQuotas.UploadAllowanceAsync(db, user, service.Value, limits.Value.MaxUploadBytes, ct));
        if (declared.Length > allowance)
            throw ApiProblemException.TooLarge($"Upload-Length {declared.Length} is over the {Math.Max(0, allowance)} bytes this {declared.Target.ToString().ToLowerInvariant()} may still take");
        var upload = new ResumableUpload(Guid.NewGuid(), declared.Target, declared.CheckpointId, declared.ResourceName, declared.FileName, declared.Length,
            declared.Sha256, time.GetUtcNow(), Lifetime(service.Value));
        upload.OwnedBy(user.Owner());
        db.Uploads.Add(upload);
        await db.SaveChangesAsync(ct);
        await File.WriteAllBytesAsync(blobs.UploadPath(upload.Id), [], ct); // after the row: a file without one is an orphan the sweep removes
        request.HttpContext.Response.Headers["Upload-Expires"] = upload.ExpiresAt.ToString("r", CultureInfo.InvariantCulture);
        return TypedResults.Created($"/uploads/{upload.Id}", ResumableUploadResponse.From(upload, 0));
    }

    public static async Task<Ok> Head(Guid id, HttpContext http, AdaMergingDbContext db, BlobStore blobs, TimeProvider time,
        ClaimsPrincipal user, CancellationToken ct)
    {
        var upload = await FindAsync(id, db, user, time, ct);
        ResumableUploadHeaders.Describe(http.Response, upload, ReceivedBytes(upload, blobs));
        return TypedResults.Ok();
    }

    public static async Task<Ok<ResumableUploadResponse>> Get(Guid id, AdaMergingDbContext db, BlobStore blobs, TimeProvider time, ClaimsPrincipal user, CancellationToken ct)
    {
        var upload = await FindAsync(id, db, user, time, ct, expiredToo: true); // JSON says "expired" where tus answers 410
        return TypedResults.Ok(ResumableUploadResponse.From(upload, ReceivedBytes(upload, blobs), upload.Expired(time.GetUtcNow())));
    }

    public static async Task<NoContent> Delete(Guid id, AdaMergingDbContext db, BlobStore blobs, DatabaseConnection database, TimeProvider time,
        ClaimsPrincipal user, CancellationToken ct)
    {
        var upload = await FindAsync(id, db, user, time, ct, tracked: true, expiredToo: true);
        await using (await ResumableUploadAppend.LockAsync(database, id, ct))
        {
            db.Uploads.Remove(upload);
            await db.SaveChangesAsync(ct);
            File.Delete(blobs.UploadPath(id));
        }
        return TypedResults.NoContent();
    }

    /// <summary>Bytes on disk: the truth after a crash between a write and the row's update.</summary>
    internal static long ReceivedBytes(ResumableUpload upload, BlobStore blobs)
    {
        if (upload.Complete) return upload.Length;
        var file = new FileInfo(blobs.UploadPath(upload.Id));
        return file.Exists ? Math.Min(file.Length, upload.Length) : upload.Offset;
    }

    internal static TimeSpan Lifetime(AdaMergingOptions options) => TimeSpan.FromSeconds(options.ResumableUploadSeconds);

    /// <summary>The caller's upload: 404 when unknown, 410 once abandoned past its expiry (unless <paramref name="expiredToo"/>).</summary>
    internal static async Task<ResumableUpload> FindAsync(Guid id, AdaMergingDbContext db, ClaimsPrincipal user, TimeProvider time, CancellationToken ct,
        bool tracked = false, bool expiredToo = false)
    {
        var upload = await (tracked ? db.Uploads : db.Uploads.AsNoTracking()).VisibleTo(user).SingleOrDefaultAsync(u => u.Id == id, ct)
            ?? throw ApiProblemException.NotFound($"upload {id} does not exist");
        if (!expiredToo && upload.Expired(time.GetUtcNow()))
            throw new ApiProblemException(StatusCodes.Status410Gone, "Gone", $"upload {id} expired at {upload.ExpiresAt:u} unfinished; create a new one")
            { Code = "upload_expired" };
        return upload;
    }
}
