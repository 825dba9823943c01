using AdaMerging.Domain.Jobs;
using AdaMerging.Api.Setup;
using AdaMerging.Api.Idempotency;
using System.Security.Claims;
using AdaMerging.Api.Access;
using AdaMerging.Api.Errors;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Store;
using AdaMerging.Domain.Tensors;
using AdaMerging.Infrastructure.Blobs;
using AdaMerging.Infrastructure.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using AdaMerging.Infrastructure.Options;
using Microsoft.Extensions.Options;

namespace AdaMerging.Api.Endpoints;

public static class CheckpointEndpoints
{
    private const int MaxFilesPerCheckpoint = 256;

    public static WebApplication MapCheckpoints(this WebApplication app)
    {
        var group = app.MapGroup("/checkpoints").WithTags("Checkpoints");
        group.MapPost("/", Upload).WithName("uploadCheckpoint")
            .WithSummary("Upload a checkpoint in one request")
            .WithDescription("Either the raw body as one file (its name in ?file=, default model.safetensors) or a multipart/form-data "
                + "body whose file parts are the model folder's files: one .safetensors, shards with model.safetensors.index.json, or a "
                + "PyTorch .bin/.pth/.pt, optionally with config.json. Files are streamed to disk while hashed, checked as a whole, and "
                + "stored under their SHA-256 (the same bytes are stored once). ?name= names the checkpoint.")
            .WithIdempotency()
            .WithUploadBody(severalFiles: true)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        group.MapPost("/open", Open).WithName("openCheckpoint").WithSummary("Start a checkpoint whose files arrive one request at a time (or as resumable uploads)").WithIdempotency();
        group.MapPut("/{id:guid}/files/{fileName}", PutFile).WithName("putCheckpointFile")
            .WithSummary("Add (or replace) one file of an open checkpoint; the raw body is the file")
            .WithUploadBody(multipart: false)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPost("/{id:guid}/seal", Seal).WithName("sealCheckpoint")
            .WithSummary("Check an open checkpoint's files as a whole and make it usable in merges")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/", List).WithName("listCheckpoints").WithSummary("The caller's checkpoints, newest first; ?after= the last id of the previous page; ?sha256= those holding a file with that digest")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        group.MapGet("/{id:guid}", Get).WithName("getCheckpoint").WithSummary("What a checkpoint holds").ProducesProblem(StatusCodes.Status404NotFound);
        group.MapMetadata<Checkpoint, CheckpointResponse>("checkpoint", CheckpointResponse.From);
        group.MapDelete("/{id:guid}", Delete).WithName("deleteCheckpoint")
            .WithSummary("Delete a checkpoint (open or sealed); its bytes leave the owner's storage, its blobs go when nothing else uses the same bytes")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/{id:guid}/tensors", ListTensors).WithName("listCheckpointTensors")
            .WithMetadata(new DeprecatedParameters(MergeEndpoints.OffsetForm + "tensors.", "offset"))
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .WithSummary("Tensor names, dtypes and shapes, paged; reads headers only")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return app;
    }

    public static async Task<Created<CheckpointResponse>> Upload(HttpRequest request, string? name, string? file, BlobStore blobs,
        AdaMergingDbContext db, TimeProvider time, IOptions<UploadLimits> limits, IOptions<AdaMergingOptions> service, ClaimsPrincipal user, CancellationToken ct)
    {
        var allowance = await OwnerQuotas.UploadAllowanceAsync(db, user, service.Value, limits.Value.MaxUploadBytes, ct);
        var staged = await Uploads.StageAsync(request, blobs, allowance, MaxFilesPerCheckpoint, ct);
        try
        {
            var all = staged.Select(s => (FileName: s.Name ?? file ?? ShardedSafetensorsWriter.SingleFileName, s.Blob)).ToList();
            var duplicate = all.GroupBy(n => n.FileName).FirstOrDefault(g => g.Count() > 1);
            if (duplicate is not null) throw ApiProblemException.Invalid($"the file '{duplicate.Key}' is uploaded twice");
            // A model folder uploads as it is published: what no architecture reads is listed, not stored.
            var problems = all.Select(n => ModelFolder.FileNameProblem(n.FileName, hiddenAllowed: true)).OfType<string>().ToList();
            if (problems.Count > 0)
                throw ApiProblemException.Invalid($"{problems.Count} file name(s) cannot stand in a model folder", RequestProblem.Unplaced(RequestProblemCode.InvalidFile, problems));
            var skipped = SkippedFile.Of(all.Select(n => n.FileName));
            var named = all.ExceptBy(skipped.Select(k => k.FileName), n => n.FileName).ToList();
            if (named.Count == 0) throw ApiProblemException.Invalid("no file of the upload is read by the service: " + string.Join("; ", skipped.Select(k => $"{k.FileName}: {k.Reason}")));
            foreach (var (fileName, blob) in named) CheckpointSealing.CheckFile(fileName, blob.Path, limits.Value);   // skipped ones are never read
            var checkpoint = new Checkpoint(Guid.NewGuid(), Uploads.DisplayName(name ?? named[0].FileName, "checkpoint"), time.GetUtcNow());
            foreach (var (fileName, blob) in named) checkpoint.PutFile(new CheckpointFile(fileName, blob.Sha256, blob.Bytes));
            await CheckpointSealing.SealAsync(checkpoint, named.ToDictionary(n => n.FileName, n => n.Blob.Path), blobs, time, ct);
            foreach (var (_, blob) in named) blob.Commit();
            checkpoint.OwnedBy(user.Owner());
            db.Checkpoints.Add(checkpoint);
            await db.SaveChangesAsync(ct);
            return TypedResults.Created($"/checkpoints/{checkpoint.Id}", CheckpointResponse.From(checkpoint) with { SkippedFiles = skipped.Count > 0 ? skipped : null });
        }
        finally
        {
            Uploads.Discard(staged);
        }
    }

    public static async Task<Created<CheckpointResponse>> Open(string? name, AdaMergingDbContext db, TimeProvider time, ClaimsPrincipal user, CancellationToken ct)
    {
        var checkpoint = new Checkpoint(Guid.NewGuid(), Uploads.DisplayName(name, "checkpoint"), time.GetUtcNow());
        checkpoint.OwnedBy(user.Owner());
        db.Checkpoints.Add(checkpoint);
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/checkpoints/{checkpoint.Id}", CheckpointResponse.From(checkpoint));
    }

    public static async Task<Ok<CheckpointResponse>> PutFile(Guid id, string fileName, HttpRequest request, BlobStore blobs,
        AdaMergingDbContext db, IOptions<UploadLimits> limits, IOptions<AdaMergingOptions> service, ClaimsPrincipal user, CancellationToken ct)
    {
        var checkpoint = await FindAsync(id, db, user, ct, tracked: true);
        if (checkpoint.Status != CheckpointStatus.Open) throw ApiProblemException.Conflict($"checkpoint {id} is sealed; its files cannot change");
        if (ModelFolder.FileNameProblem(fileName) is { } problem) throw ApiProblemException.Invalid(problem);
        if (ModelFolder.Classify(fileName) is (CheckpointFileRole.Skipped, var reason))
            return TypedResults.Ok(CheckpointResponse.From(checkpoint) with { SkippedFiles = [new SkippedFile(fileName, reason!)] });   // not stored
        if (checkpoint.Files.Count >= MaxFilesPerCheckpoint && checkpoint.Files.All(f => f.FileName != fileName))
            throw ApiProblemException.Invalid($"a checkpoint holds at most {MaxFilesPerCheckpoint} files");
        var limit = Math.Min(limits.Value.MaxUploadBytes - checkpoint.Files.Where(f => f.FileName != fileName).Sum(f => f.Bytes),
            await OwnerQuotas.UploadAllowanceAsync(db, user, service.Value, limits.Value.MaxUploadBytes, ct));
        using var blob = await blobs.StageAsync(request.Body, Math.Max(0, limit), ct);
        Uploads.Count(request, blob.Bytes);
        CheckpointSealing.CheckFile(fileName, blob.Path, limits.Value);
        blob.Commit();
        checkpoint.PutFile(new CheckpointFile(fileName, blob.Sha256, blob.Bytes));
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(CheckpointResponse.From(checkpoint));
    }

    public static async Task<Ok<CheckpointResponse>> Seal(Guid id, BlobStore blobs, AdaMergingDbContext db, TimeProvider time, ClaimsPrincipal user, CancellationToken ct)
    {
        var checkpoint = await FindAsync(id, db, user, ct, tracked: true);
        if (checkpoint.Status == CheckpointStatus.Sealed) return TypedResults.Ok(CheckpointResponse.From(checkpoint));
        var unread = await CheckpointSealing.SealAsync(checkpoint, blobs.Paths(checkpoint), blobs, time, ct);
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(CheckpointResponse.From(checkpoint) with { SkippedFiles = unread.Count > 0 ? unread : null });
    }

    public static async Task<Ok<ListPage<CheckpointResponse>>> List(AdaMergingDbContext db, ClaimsPrincipal user, CancellationToken ct, Guid? after = null,
        int limit = CursorPaging.DefaultLimit, string? sha256 = null)
    {
        var visible = db.Checkpoints.AsNoTracking().VisibleTo(user);
        if (CursorPaging.Digest(sha256) is { } digest) visible = visible.Where(c => c.Files.Any(f => f.Sha256 == digest));
        return TypedResults.Ok(await CursorPaging.PageAsync(visible, after, limit, CheckpointResponse.From, ct));
    }

    public static async Task<NoContent> Delete(Guid id, AdaMergingDbContext db, BlobCollector collector, BlobStore store, ClaimsPrincipal user, CancellationToken ct)
    {
        await using var locked = await Deletion.LockInputsAsync(db, [id], ct);
        var checkpoint = await FindAsync(id, db, user, ct, tracked: true);
        await Deletion.EnsureUnusedAsync(db, id, "checkpoint", ct);
        var blobs = checkpoint.Files.Select(f => f.Sha256).ToList();
        var uploads = await db.Uploads.Where(u => u.CheckpointId == id).ToListAsync(ct);
        db.Uploads.RemoveRange(uploads); // its unfinished uploads have nowhere to go
        db.Checkpoints.Remove(checkpoint);
        await db.SaveChangesAsync(ct);
        await locked.CommitAsync(ct);
        foreach (var upload in uploads) File.Delete(store.UploadPath(upload.Id));
        await collector.CollectAsync(blobs, ct);
        return TypedResults.NoContent();
    }

    public static async Task<Ok<CheckpointResponse>> Get(Guid id, AdaMergingDbContext db, ClaimsPrincipal user, CancellationToken ct) =>
        TypedResults.Ok(CheckpointResponse.From(await FindAsync(id, db, user, ct)));

    public static async Task<Ok<TensorPage>> ListTensors(Guid id, AdaMergingDbContext db, BlobStore blobs, ClaimsPrincipal user, CancellationToken ct,
        string? after = null, int limit = 100, int? offset = null)
    {
        CursorPaging.EnsureOneForm(after, offset, limit, 1000);
        var checkpoint = await FindAsync(id, db, user, ct);
        if (checkpoint.Status != CheckpointStatus.Sealed) throw ApiProblemException.Conflict($"checkpoint {id} is not sealed yet");
        using var folder = blobs.OpenFolder(checkpoint);
        var tensors = folder.Weights.Tensors;
        var start = offset ?? (after is null ? 0 : IndexAfter(tensors.Select(t => t.Name).ToList(), after, id));
        var page = tensors.Skip(start).Take(limit).Select(t => new TensorResponse(t.Name, t.DType.Name, t.Shape)).ToList();
        var (hasMore, first, last) = (start + page.Count < tensors.Count, page.FirstOrDefault()?.Name, page.LastOrDefault()?.Name);
#pragma warning disable CS0618 // the deprecated fields, filled for the callers of the offset form (docs/api.md, "Lists")
        return TypedResults.Ok(offset is null ? new TensorPage(page, hasMore, first, last, tensors.Count)
            : new TensorPage(page, hasMore, first, last, tensors.Count, offset, limit, page));
#pragma warning restore CS0618
    }

    /// <summary>Where the page after tensor <paramref name="name"/> starts; a 400 when the checkpoint has no such tensor.</summary>
    private static int IndexAfter(List<string> names, string name, Guid id) => names.IndexOf(name) is var i and >= 0 ? i + 1
        : throw ApiProblemException.Invalid($"after: checkpoint {id} has no tensor '{name}'");

    private static async Task<Checkpoint> FindAsync(Guid id, AdaMergingDbContext db, ClaimsPrincipal user, CancellationToken ct, bool tracked = false)
    {
        var query = (tracked ? db.Checkpoints : db.Checkpoints.AsNoTracking()).VisibleTo(user);
        return await query.SingleOrDefaultAsync(c => c.Id == id, ct) ?? throw ApiProblemException.NotFound($"checkpoint {id} does not exist");
    }
}
