using System.Text.Json;
using AdaMerging.Api.Errors;
using AdaMerging.Domain.Jobs;
using AdaMerging.Domain.Store;
using AdaMerging.Domain.Tensors;
using AdaMerging.Infrastructure.Blobs;
using AdaMerging.Infrastructure.Persistence;
using AdaMerging.Infrastructure.Queue;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace AdaMerging.Api.Endpoints;

public sealed record MergeLinks(string Self, string? Model, string? Report, IReadOnlyList<string> Files);

public sealed record MergeProgressResponse(string? Phase, int Step, int TotalSteps, double? Objective);

public sealed record MergeResponse(Guid Id, string Method, MergeStatus Status, DateTimeOffset CreatedAt, DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt, int Attempts, string? Error, MergeProgressResponse Progress, IReadOnlyList<CheckpointFile> Files, MergeLinks Links)
{
    public static MergeResponse From(MergeJob j)
    {
        var done = j.Status == MergeStatus.Succeeded;
        var self = $"/merges/{j.Id}";
        return new(j.Id, j.Method, j.Status, j.CreatedAt, j.StartedAt, j.FinishedAt, j.Attempts, j.Error,
            new MergeProgressResponse(j.Phase, j.Step, j.TotalSteps, j.Objective), j.ResultFiles,
            new MergeLinks(self,
                done && j.ResultFiles.Any(f => f.FileName == ShardedSafetensorsWriter.SingleFileName) ? self + "/model" : null,
                done ? self + "/report" : null,
                j.ResultFiles.Select(f => $"{self}/files/{f.FileName}").ToList()));
    }
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
            .WithSummary("Download the merged model.safetensors (when the model is not sharded)")
            .Produces(StatusCodes.Status200OK, contentType: "application/octet-stream")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/{id:guid}/files/{fileName}", DownloadFile)
            .WithSummary("Download one file of the merged model folder (config.json, shards, index, report.json)")
            .Produces(StatusCodes.Status200OK, contentType: "application/octet-stream")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/{id:guid}/report", Report)
            .WithSummary("The report: accuracies beside base, individual and task arithmetic; coefficients; objective; timings")
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

    public static Task<PhysicalFileHttpResult> DownloadModel(Guid id, AdaMergingDbContext db, BlobStore blobs, CancellationToken ct) =>
        DownloadFile(id, ShardedSafetensorsWriter.SingleFileName, db, blobs, ct);

    public static async Task<PhysicalFileHttpResult> DownloadFile(Guid id, string fileName, AdaMergingDbContext db, BlobStore blobs, CancellationToken ct)
    {
        var job = await FindSucceededAsync(id, db, ct);
        var file = job.ResultFiles.FirstOrDefault(f => f.FileName == fileName)
            ?? throw ApiProblemException.NotFound($"merge {id} has no file '{fileName}'; it has {string.Join(", ", job.ResultFiles.Select(f => f.FileName))}");
        var type = fileName.EndsWith(".json", StringComparison.Ordinal) ? "application/json" : "application/octet-stream";
        return TypedResults.PhysicalFile(blobs.PathOf(file.Sha256), type, fileName, enableRangeProcessing: true);
    }

    public static async Task<ContentHttpResult> Report(Guid id, AdaMergingDbContext db, CancellationToken ct) =>
        TypedResults.Content((await FindSucceededAsync(id, db, ct)).ReportJson, "application/json");

    private static async Task<MergeJob> FindSucceededAsync(Guid id, AdaMergingDbContext db, CancellationToken ct)
    {
        var job = await FindAsync(id, db, ct);
        return job.Status == MergeStatus.Succeeded ? job
            : throw ApiProblemException.Conflict($"merge {id} is {job.Status.ToString().ToLowerInvariant()}; its results exist once it has succeeded");
    }

    private static async Task<MergeJob> FindAsync(Guid id, AdaMergingDbContext db, CancellationToken ct) =>
        await db.Merges.AsNoTracking().SingleOrDefaultAsync(m => m.Id == id, ct)
        ?? throw ApiProblemException.NotFound($"merge {id} does not exist");
}
