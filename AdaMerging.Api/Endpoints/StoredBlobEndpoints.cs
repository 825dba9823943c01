using AdaMerging.Api.Setup;
using AdaMerging.Api.Idempotency;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using AdaMerging.Api.Access;
using AdaMerging.Api.Errors;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Store;
using AdaMerging.Infrastructure.Blobs;
using AdaMerging.Infrastructure.Options;
using AdaMerging.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AdaMerging.Api.Endpoints;

/// <summary>The services an upload of a single-file resource uses.</summary>
public readonly record struct UploadServices(BlobStore Blobs, AdaMergingDbContext Db, TimeProvider Time, IOptions<UploadLimits> Limits,
    IOptions<AdaMergingOptions> Service);

/// <summary>A single-file resource as the API serves it: its route, its words, its check and its answer.</summary>
/// <param name="Kind">What it is called in messages and default names ("head").</param>
/// <param name="Inspect">The resource's check of a staged file; its format errors become a 400.</param>
/// <param name="Create">The new entity from its id, display name, blob and what the check found.</param>
/// <param name="FromJson">When set, a JSON body at POST {path}/zero-shot describes a resource to make rather than upload (a zero-shot head); it returns the unsaved entity.</param>
/// <param name="JsonSummary">What POST {path}/zero-shot does.</param>
public sealed record StoredBlobResource<TEntity, TInfo, TResponse>(string Path, string Tag, string Kind, string UploadSummary, string UploadDescription,
    Func<string, UploadLimits, TInfo> Inspect, Func<Guid, string, StoredFile, TInfo, DateTimeOffset, TEntity> Create, Func<TEntity, TResponse> Respond,
    Func<HttpRequest, UploadServices, ClaimsPrincipal, CancellationToken, Task<TEntity>>? FromJson = null, string? JsonSummary = null)
    : IStoredBlobResource where TEntity : StoredBlob
{
    /// <summary>The kind as operation ids spell it ("Head" in uploadHead, listHeads).</summary>
    public string Name => OperationNames.Pascal(Kind);

    public StoredBlob FromFile(string path, string? name, StoredFile file, UploadLimits limits, DateTimeOffset now) =>
        Create(Guid.NewGuid(), Uploads.DisplayName(name, Kind), file, Uploads.Checked(path, Kind, p => Inspect(p, limits)), now);
}

/// <summary>A stored file's digest and size, as a resource records them.</summary>
public readonly record struct StoredFile(string Sha256, long Bytes);

/// <summary>A single-file resource as a completed resumable upload makes one.</summary>
public interface IStoredBlobResource
{
    /// <summary>The (unsaved) resource for the file at <paramref name="path"/>, if it passes the resource's check (a 400 naming why not).</summary>
    StoredBlob FromFile(string path, string? name, StoredFile file, UploadLimits limits, DateTimeOffset now);
}

/// <summary>
/// The one upload and the one lookup of single-file resources (heads, datasets): quota, staging, the resource's own
/// check, commit, the row; and a lookup that only shows the caller's own (404 otherwise).
/// </summary>
public static class StoredBlobEndpoints
{
    /// <summary>POST {path} (upload) and GET {path}/{id}, one route group.</summary>
    public static RouteGroupBuilder MapStoredBlobs<TEntity, TInfo, TResponse>(this WebApplication app, StoredBlobResource<TEntity, TInfo, TResponse> resource)
        where TEntity : StoredBlob
    {
        var group = app.MapGroup(resource.Path).WithTags(resource.Tag);
        async Task<Created<TResponse>> FromJsonAsync(HttpRequest request, UploadServices services, ClaimsPrincipal user, CancellationToken ct)
        {
            var entity = await resource.FromJson!(request, services, user, ct);
            entity.OwnedBy(user.Owner());
            services.Db.Add(entity);
            await services.Db.SaveChangesAsync(ct);
            return TypedResults.Created($"{resource.Path}/{entity.Id}", resource.Respond(entity));
        }
        group.MapPost("/", async Task<Created<TResponse>> (HttpRequest request, string? name, [AsParameters] UploadServices services, ClaimsPrincipal user,
            CancellationToken ct) =>
            {
                // JSON here is the same as POST {path}/zero-shot (kept for the clients that send it here).
                if (resource.FromJson is not null && request.HasJsonContentType()) return await FromJsonAsync(request, services, user, ct);
                var entity = await UploadAsync(request, name, resource.Kind, services, user, resource.Inspect, resource.Create, ct);
                return TypedResults.Created($"{resource.Path}/{entity.Id}", resource.Respond(entity));
            })
            .WithName($"upload{resource.Name}")
            .WithSummary(resource.UploadSummary)
            .WithDescription(resource.UploadDescription)
            .WithIdempotency()
            .WithUploadBody()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        if (resource.FromJson is not null)
            group.MapPost("/zero-shot", async Task<Created<TResponse>> (HttpRequest request, [AsParameters] UploadServices services, ClaimsPrincipal user,
                    CancellationToken ct) => await FromJsonAsync(request, services, user, ct))
                .WithName($"buildZeroShot{resource.Name}").WithSummary($"Build a zero-shot {resource.Kind} from class names").WithDescription(resource.JsonSummary ?? "")
                .WithIdempotency()
                .WithUploadBody(zeroShotJson: true)
                .ProducesProblem(StatusCodes.Status400BadRequest)
                .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        group.MapGet("/", async Task<Ok<ListPage<TResponse>>> (AdaMergingDbContext db, ClaimsPrincipal user, CancellationToken ct, Guid? after = null,
                int limit = CursorPaging.DefaultLimit, string? sha256 = null) =>
            {
                var visible = db.Set<TEntity>().AsNoTracking().VisibleTo(user);
                if (CursorPaging.Digest(sha256) is { } digest) visible = visible.Where(e => e.Sha256 == digest);
                return TypedResults.Ok(await CursorPaging.PageAsync(visible, after, limit, resource.Respond, ct));
            })
            .WithName($"list{resource.Name}s")
            .WithSummary($"The caller's {resource.Kind}s, newest first; ?after= the last id of the previous page; ?sha256= the one with that digest")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        group.MapGet("/{id:guid}", async Task<Ok<TResponse>> (Guid id, AdaMergingDbContext db, ClaimsPrincipal user, CancellationToken ct) =>
                TypedResults.Ok(resource.Respond(await FindAsync(db.Set<TEntity>(), id, resource.Kind, user, ct))))
            .WithName($"get{resource.Name}")
            .WithSummary($"What a {resource.Kind} holds")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapMetadata<TEntity, TResponse>(resource.Kind, resource.Respond);
        group.MapDelete("/{id:guid}", async Task<NoContent> (Guid id, AdaMergingDbContext db, BlobCollector collector, ClaimsPrincipal user, CancellationToken ct) =>
            {
                await using var locked = await Deletion.LockInputsAsync(db, [id], ct);
                var entity = await db.Set<TEntity>().VisibleTo(user).SingleOrDefaultAsync(e => e.Id == id, ct)
                    ?? throw ApiProblemException.NotFound($"{resource.Kind} {id} does not exist");
                await Deletion.EnsureUnusedAsync(db, id, resource.Kind, ct);
                db.Remove(entity);
                await db.SaveChangesAsync(ct);
                await locked.CommitAsync(ct);
                await collector.CollectAsync([entity.Sha256], ct);
                return TypedResults.NoContent();
            })
            .WithName($"delete{resource.Name}")
            .WithSummary($"Delete a {resource.Kind}; its bytes leave the owner's storage, and its blob goes when nothing else uses the same bytes")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return group;
    }

    private static async Task<TEntity> UploadAsync<TEntity, TInfo>(HttpRequest request, string? name, string kind, UploadServices services,
        ClaimsPrincipal user, Func<string, UploadLimits, TInfo> inspect, Func<Guid, string, StoredFile, TInfo, DateTimeOffset, TEntity> create,
        CancellationToken ct) where TEntity : StoredBlob
    {
        var limits = services.Limits.Value;
        var allowance = await OwnerQuotas.UploadAllowanceAsync(services.Db, user, services.Service.Value, limits.MaxUploadBytes, ct);
        var entity = await Uploads.StoreOneAsync(request, services.Blobs, allowance, kind, path => inspect(path, limits),
            (file, info) => create(Guid.NewGuid(), Uploads.DisplayName(name ?? file.Name, kind), new StoredFile(file.Blob.Sha256, file.Blob.Bytes), info,
                services.Time.GetUtcNow()));
        entity.OwnedBy(user.Owner());
        services.Db.Add(entity);
        await services.Db.SaveChangesAsync(ct);
        return entity;
    }

    private static async Task<TEntity> FindAsync<TEntity>(IQueryable<TEntity> set, Guid id, string kind, ClaimsPrincipal user, CancellationToken ct)
        where TEntity : StoredBlob =>
        await set.AsNoTracking().VisibleTo(user).SingleOrDefaultAsync(e => e.Id == id, ct) ?? throw ApiProblemException.NotFound($"{kind} {id} does not exist");
}
