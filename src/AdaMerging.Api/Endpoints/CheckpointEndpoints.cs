using AdaMerging.Api.Errors;
using AdaMerging.Domain.Store;
using AdaMerging.Domain.Tensors;
using AdaMerging.Infrastructure.Blobs;
using AdaMerging.Infrastructure.Options;
using AdaMerging.Infrastructure.Persistence;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace AdaMerging.Api.Endpoints;

public sealed record CheckpointResponse(Guid Id, string Name, string Sha256, long Bytes, int TensorCount, long ParameterCount, DateTimeOffset CreatedAt)
{
    public static CheckpointResponse From(Checkpoint c) => new(c.Id, c.Name, c.Sha256, c.Bytes, c.TensorCount, c.ParameterCount, c.CreatedAt);
}

public static class CheckpointEndpoints
{
    public static WebApplication MapCheckpoints(this WebApplication app)
    {
        var group = app.MapGroup("/checkpoints").WithTags("Checkpoints");
        group.MapPost("/", Upload)
            .WithSummary("Upload one safetensors checkpoint")
            .WithDescription("The body is the file itself (any content type but multipart, name in ?name=) or a multipart/form-data "
                + "request whose first file part is the checkpoint. It is streamed to disk while hashed, checked, and stored under its SHA-256.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        group.MapGet("/{id:guid}", Get).WithSummary("What a checkpoint holds").ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    public static async Task<Created<CheckpointResponse>> Upload(HttpRequest request, string? name, BlobStore blobs,
        AdaMergingDbContext db, TimeProvider time, IOptions<AdaMergingOptions> options, CancellationToken ct)
    {
        var limit = options.Value.MaxUploadBytes;
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
            sizeFeature.MaxRequestBodySize = limit + (1 << 20);
        var (body, fileName) = await OpenUploadAsync(request, ct);
        using var staged = await blobs.StageAsync(body, limit, ct);
        var header = ReadHeader(staged.Path);
        staged.Commit();
        var checkpoint = new Checkpoint(Guid.NewGuid(), CheckpointName(name ?? fileName), staged.Sha256, staged.Bytes,
            header.Tensors.Count, header.ParameterCount, time.GetUtcNow());
        db.Checkpoints.Add(checkpoint);
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/checkpoints/{checkpoint.Id}", CheckpointResponse.From(checkpoint));
    }

    public static async Task<Ok<CheckpointResponse>> Get(Guid id, AdaMergingDbContext db, CancellationToken ct)
    {
        var checkpoint = await db.Checkpoints.AsNoTracking().SingleOrDefaultAsync(c => c.Id == id, ct)
            ?? throw ApiProblemException.NotFound($"checkpoint {id} does not exist");
        return TypedResults.Ok(CheckpointResponse.From(checkpoint));
    }

    /// <summary>The raw body, or the first file section of a multipart body, as a stream that is never buffered whole.</summary>
    private static async Task<(Stream Body, string? FileName)> OpenUploadAsync(HttpRequest request, CancellationToken ct)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var type) || !type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
            return (request.Body, null);
        var boundary = HeaderUtilities.RemoveQuotes(type.Boundary).Value;
        if (string.IsNullOrEmpty(boundary))
            throw ApiProblemException.Invalid("multipart/form-data without a boundary");
        var reader = new MultipartReader(boundary, request.Body);
        while (await reader.ReadNextSectionAsync(ct) is { } section)
        {
            if (ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) && disposition.IsFileDisposition())
                return (section.Body, HeaderUtilities.RemoveQuotes(disposition.FileName).Value);
        }
        throw ApiProblemException.Invalid("the multipart body has no file part");
    }

    private static SafetensorsHeader ReadHeader(string path)
    {
        try
        {
            return SafetensorsHeader.Read(path);
        }
        catch (SafetensorsFormatException e)
        {
            throw ApiProblemException.Invalid($"the upload is not a valid safetensors file: {e.Message}");
        }
    }

    private static string CheckpointName(string? name)
    {
        name = Path.GetFileName(name?.Trim() ?? "");
        return string.IsNullOrEmpty(name) ? "checkpoint" : name.Length > 256 ? name[..256] : name;
    }
}
