using System.Text.Json;
using AdaMerging.Api.Errors;
using AdaMerging.Domain.Jobs;
using AdaMerging.Infrastructure.Blobs;
using AdaMerging.Infrastructure.Persistence;
using AdaMerging.Infrastructure.Queue;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace AdaMerging.Api.Endpoints;

public sealed record MergeLinks(string Self, string? Model);

public sealed record MergeResponse(Guid Id, string Method, MergeStatus Status, DateTimeOffset CreatedAt, DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt, int Attempts, string? Error, string? ResultSha256, long? ResultBytes, MergeLinks Links)
{
    public static MergeResponse From(MergeJob j) => new(j.Id, j.Method, j.Status, j.CreatedAt, j.StartedAt, j.FinishedAt, j.Attempts,
        j.Error, j.ResultSha256, j.ResultBytes,
        new MergeLinks($"/merges/{j.Id}", j.Status == MergeStatus.Succeeded ? $"/merges/{j.Id}/model" : null));
}

public static class MergeEndpoints
{
    public static WebApplication MapMerges(this WebApplication app)
    {
        var group = app.MapGroup("/merges").WithTags("Merges");
        group.MapPost("/", Submit)
            .WithSummary("Submit a merge")
            .WithDescription("Validates the whole request (method, options, that every checkpoint exists and matches the base "
                + "tensor for tensor), stores it and queues it. Answers 202 with the merge's location.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/{id:guid}", Get).WithSummary("A merge's status").ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/{id:guid}/model", DownloadModel)
            .WithSummary("Download the merged model (safetensors)")
            .Produces(StatusCodes.Status200OK, contentType: "application/octet-stream")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return app;
    }

    public static async Task<Accepted<MergeResponse>> Submit(MergeRequest request, AdaMergingDbContext db, BlobStore blobs,
        MergeScheduler scheduler, TimeProvider time, CancellationToken ct)
    {
        var problems = request.Problems();
        if (problems.Count > 0) throw ApiProblemException.Invalid($"the merge request has {problems.Count} problem(s)", problems);
        await MergePreflight.CheckAsync(request, db, blobs, ct);

        var job = new MergeJob(Guid.NewGuid(), request.Method, JsonSerializer.Serialize(request, JsonSerializerOptions.Web), time.GetUtcNow());
        db.Merges.Add(job);
        await db.SaveChangesAsync(ct);
        scheduler.Enqueue(job.Id);
        return TypedResults.Accepted($"/merges/{job.Id}", MergeResponse.From(job));
    }

    public static async Task<Ok<MergeResponse>> Get(Guid id, AdaMergingDbContext db, CancellationToken ct) =>
        TypedResults.Ok(MergeResponse.From(await FindAsync(id, db, ct)));

    public static async Task<PhysicalFileHttpResult> DownloadModel(Guid id, AdaMergingDbContext db, BlobStore blobs, CancellationToken ct)
    {
        var job = await FindAsync(id, db, ct);
        if (job.Status != MergeStatus.Succeeded)
            throw ApiProblemException.Conflict($"merge {id} is {job.Status.ToString().ToLowerInvariant()}; its model exists once it has succeeded");
        return TypedResults.PhysicalFile(blobs.PathOf(job.ResultSha256!), "application/octet-stream",
            $"merged-{id}.safetensors", enableRangeProcessing: true);
    }

    private static async Task<MergeJob> FindAsync(Guid id, AdaMergingDbContext db, CancellationToken ct) =>
        await db.Merges.AsNoTracking().SingleOrDefaultAsync(m => m.Id == id, ct)
        ?? throw ApiProblemException.NotFound($"merge {id} does not exist");
}
