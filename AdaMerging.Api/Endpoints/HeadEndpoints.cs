using System.Security.Claims;
using AdaMerging.Api.Access;
using AdaMerging.Api.Errors;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Heads;
using AdaMerging.Domain.Store;
using AdaMerging.Domain.Tensors;
using AdaMerging.Infrastructure.Blobs;
using AdaMerging.Infrastructure.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using AdaMerging.Infrastructure.Options;
using Microsoft.Extensions.Options;

namespace AdaMerging.Api.Endpoints;

public sealed record HeadResponse(Guid Id, string Name, string Sha256, long Bytes, int Classes, int FeatureSize, bool HasBias,
    bool NormalizeFeatures, IReadOnlyList<string>? ClassNames, DateTimeOffset CreatedAt)
{
    public static HeadResponse From(Head h) =>
        new(h.Id, h.Name, h.Sha256, h.Bytes, h.Classes, h.FeatureSize, h.HasBias, h.NormalizeFeatures, h.ClassNames, h.CreatedAt);
}

public static class HeadEndpoints
{
    public static WebApplication MapHeads(this WebApplication app)
    {
        var group = app.MapGroup("/heads").WithTags("Heads");
        group.MapPost("/", Upload)
            .WithSummary("Upload a classification head")
            .WithDescription("safetensors with 'weight' [classes, features], optional 'bias' [classes], metadata 'normalize' "
                + "(\"true\" when features are L2-normalised first) and optional 'classes' (a JSON array of names). Raw body or one multipart file.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        group.MapGet("/{id:guid}", Get).WithSummary("What a head holds").ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    public static async Task<Created<HeadResponse>> Upload(HttpRequest request, string? name, BlobStore blobs, AdaMergingDbContext db,
        TimeProvider time, IOptions<UploadLimits> limits, IOptions<AdaMergingOptions> service, ClaimsPrincipal user, CancellationToken ct)
    {
        var allowance = await OwnerQuotas.UploadAllowanceAsync(db, user, service.Value, limits.Value.MaxUploadBytes, ct);
        var head = await Uploads.StoreOneAsync(request, blobs, allowance, "head",
            path => HeadInfo.Inspect(path, limits.Value),
            (file, info) => new Head(Guid.NewGuid(), Uploads.DisplayName(name ?? file.Name, "head"), file.Blob.Sha256, file.Blob.Bytes, info, time.GetUtcNow()));
        head.OwnedBy(user.Owner());
        db.Heads.Add(head);
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/heads/{head.Id}", HeadResponse.From(head));
    }

    public static async Task<Ok<HeadResponse>> Get(Guid id, AdaMergingDbContext db, ClaimsPrincipal user, CancellationToken ct) =>
        TypedResults.Ok(HeadResponse.From(await db.Heads.AsNoTracking().VisibleTo(user).SingleOrDefaultAsync(h => h.Id == id, ct)
            ?? throw ApiProblemException.NotFound($"head {id} does not exist")));
}
