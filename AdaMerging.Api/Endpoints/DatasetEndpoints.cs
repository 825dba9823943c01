using System.Security.Claims;
using AdaMerging.Api.Access;
using AdaMerging.Api.Errors;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Store;
using AdaMerging.Domain.Tensors;
using AdaMerging.Infrastructure.Blobs;
using AdaMerging.Infrastructure.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using AdaMerging.Infrastructure.Options;
using Microsoft.Extensions.Options;

namespace AdaMerging.Api.Endpoints;

public sealed record DatasetResponse(Guid Id, string Name, string Sha256, long Bytes, DatasetFormat Format, int Count, int Channels,
    int? Height, int? Width, bool HasLabels, int? MaxLabel, IReadOnlyList<string>? ClassNames, DateTimeOffset CreatedAt)
{
    public static DatasetResponse From(Dataset d) => new(d.Id, d.Name, d.Sha256, d.Bytes, d.Format, d.Count, d.Channels, d.Height, d.Width,
        d.HasLabels, d.MaxLabel, d.ClassNames, d.CreatedAt);
}

public static class DatasetEndpoints
{
    public static WebApplication MapDatasets(this WebApplication app)
    {
        var group = app.MapGroup("/datasets").WithTags("Datasets");
        group.MapPost("/", Upload)
            .WithSummary("Upload a dataset")
            .WithDescription("safetensors with 'pixel_values' [N, C, H, W] (uint8, or float already preprocessed) and optional int64 "
                + "'labels' [N]; or a zip of images, one folder per class or flat with an optional labels.csv (file,label). "
                + "Archives are checked entry by entry (safe paths, sizes, compression ratio) and every image is decoded once.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        group.MapGet("/{id:guid}", Get).WithSummary("What a dataset holds").ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    public static async Task<Created<DatasetResponse>> Upload(HttpRequest request, string? name, BlobStore blobs, AdaMergingDbContext db,
        TimeProvider time, IOptions<UploadLimits> limits, IOptions<AdaMergingOptions> service, ClaimsPrincipal user, CancellationToken ct)
    {
        var allowance = await OwnerQuotas.UploadAllowanceAsync(db, user, service.Value, limits.Value.MaxUploadBytes, ct);
        var dataset = await Uploads.StoreOneAsync(request, blobs, allowance, "dataset",
            path => DatasetInfo.Inspect(path, limits.Value),
            (file, info) => new Dataset(Guid.NewGuid(), Uploads.DisplayName(name ?? file.Name, "dataset"), file.Blob.Sha256, file.Blob.Bytes, info, time.GetUtcNow()));
        dataset.OwnedBy(user.Owner());
        db.Datasets.Add(dataset);
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/datasets/{dataset.Id}", DatasetResponse.From(dataset));
    }

    public static async Task<Ok<DatasetResponse>> Get(Guid id, AdaMergingDbContext db, ClaimsPrincipal user, CancellationToken ct) =>
        TypedResults.Ok(DatasetResponse.From(await db.Datasets.AsNoTracking().VisibleTo(user).SingleOrDefaultAsync(d => d.Id == id, ct)
            ?? throw ApiProblemException.NotFound($"dataset {id} does not exist")));
}
