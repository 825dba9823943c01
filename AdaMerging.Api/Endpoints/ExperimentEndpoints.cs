using System.Security.Claims;
using AdaMerging.Api.Access;
using AdaMerging.Api.Errors;
using AdaMerging.Api.Idempotency;
using AdaMerging.Domain.Jobs;
using AdaMerging.Infrastructure.Blobs;
using AdaMerging.Infrastructure.Contract;
using AdaMerging.Infrastructure.Options;
using AdaMerging.Infrastructure.Persistence;
using AdaMerging.Infrastructure.Queue;
using AdaMerging.Infrastructure.Reports;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AdaMerging.Api.Endpoints;

/// <summary>
/// Experiments (docs/api.md, "Experiments"): one set of inputs merged by several method configurations, each an
/// ordinary merge (followed, cancelled and downloaded as any), compared in one table with the baselines once.
/// </summary>
public static class ExperimentEndpoints
{
    public static WebApplication MapExperiments(this WebApplication app)
    {
        var group = app.MapGroup("/experiments").WithTags("Experiments");
        group.MapPost("/", Submit).WithName("submitExperiment")
            .WithSummary("Run several method configurations on one set of inputs and compare them")
            .WithDescription("Validates every configuration (a problem of configuration i is under /methods/i), pre-flights each merge, and queues them "
                + "all or none (the owner's merge quota must hold them all). Answers 202 with the experiment and its merges.")
            .WithIdempotency()
            .WithMetadata(new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(MergeEndpoints.MaxRequestBytes))
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        group.MapGet("/", List).WithName("listExperiments").WithSummary("Experiments, newest first, paged by cursor (?after= the last id)")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        group.MapGet("/{id:guid}", Get).WithName("getExperiment").WithSummary("An experiment: its merges' states and the comparison so far").ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("/{id:guid}", Delete).WithName("deleteExperiment").WithSummary("Forget an experiment (its merges stay, as ordinary merges; delete them on their own)")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/{id:guid}/comparison.csv", Csv).WithName("getExperimentComparisonCsv").WithSummary("The comparison as CSV").Produces(StatusCodes.Status200OK, contentType: "text/csv")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/{id:guid}/comparison.md", Markdown).WithName("getExperimentComparisonMarkdown").WithSummary("The comparison as a Markdown table").Produces(StatusCodes.Status200OK, contentType: "text/markdown")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/{id:guid}/comparison.png", Plot).WithName("getExperimentComparisonPlot").WithSummary("Each row's average as a bar chart").Produces(StatusCodes.Status200OK, contentType: "image/png")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    public static async Task<Accepted<ExperimentResponse>> Submit(ExperimentRequest request, AdaMergingDbContext db, BlobStore blobs, MergeScheduler scheduler,
        TimeProvider time, IOptions<AdaMergingOptions> service, ClaimsPrincipal user, CancellationToken ct)
    {
        var problems = request.Problems();
        if (problems.Count > 0) throw ApiProblemException.Invalid($"the experiment request has {problems.Count} problem(s)", problems);
        var id = Guid.NewGuid();
        var merges = request.Merges(id);
        var labels = request.Labels();
        await using var locked = await Deletion.LockInputsAsync(db, merges.SelectMany(m => m.Inputs(Guid.Empty)).Select(i => i.ResourceId).Distinct(), ct);
        await OwnerQuotas.EnsureMergeSlotsAsync(db, user, service.Value, merges.Count, ct);
        var jobs = new List<MergeJob>();
        for (int i = 0; i < merges.Count; i++)
        {
            try
            {
                jobs.Add(await MergeSubmission.PrepareAsync(merges[i], db, blobs, time, user, service.Value.MergeMemoryLimitBytes, ct));
            }
            catch (ApiProblemException e) when (e.Errors.Count > 0)
            {
                throw new ApiProblemException(e.Status, e.Title, $"methods[{i}] ('{labels[i]}'): {e.Message}",
                    [.. e.Errors.Select(p => ExperimentRequest.OfConfiguration(p, i))]) { Code = e.Code, Headers = e.Headers };
            }
        }
        string name = request.Name ?? $"{string.Join(", ", labels)} over {string.Join(", ", request.Tasks.Select(t => t.Name))}";
        var experiment = new Experiment(id, name.Length > 256 ? name[..255] + "…" : name, user.Owner(), time.GetUtcNow(),
            [.. jobs.Select((j, i) => new ExperimentRun(labels[i], j.Method, j.Id))]);
        db.Experiments.Add(experiment);
        await db.SaveChangesAsync(ct);
        await locked.CommitAsync(ct);
        foreach (var job in jobs) await MergeSubmission.QueueAsync(job, db, scheduler, ct);
        return TypedResults.Accepted($"/experiments/{id}", ExperimentResponse.From(experiment, jobs.ToDictionary(j => j.Id), withComparison: false));
    }

    public static async Task<Ok<ListPage<ExperimentResponse>>> List(AdaMergingDbContext db, ClaimsPrincipal user, CancellationToken ct, Guid? after = null,
        int limit = CursorPaging.DefaultLimit)
    {
        var page = await CursorPaging.PageAsync(db.Experiments.AsNoTracking().VisibleTo(user), after, limit, e => e, ct);
        var ids = page.Data.SelectMany(e => e.Runs.Select(r => r.MergeId)).ToList();
        var merges = await db.Merges.AsNoTracking().Where(m => ids.Contains(m.Id)).ToDictionaryAsync(m => m.Id, ct);
        return TypedResults.Ok(new ListPage<ExperimentResponse>([.. page.Data.Select(e => ExperimentResponse.From(e, merges, withComparison: false))],
            page.HasMore, page.FirstId, page.LastId));
    }

    public static async Task<Ok<ExperimentResponse>> Get(Guid id, AdaMergingDbContext db, ClaimsPrincipal user, CancellationToken ct) =>
        TypedResults.Ok(await LoadAsync(id, db, user, ct));

    public static async Task<NoContent> Delete(Guid id, AdaMergingDbContext db, ClaimsPrincipal user, CancellationToken ct)
    {
        int deleted = await db.Experiments.VisibleTo(user).Where(e => e.Id == id).ExecuteDeleteAsync(ct);
        return deleted == 0 ? throw ApiProblemException.NotFound($"experiment {id} does not exist") : TypedResults.NoContent();
    }

    public static async Task<ContentHttpResult> Csv(Guid id, AdaMergingDbContext db, ClaimsPrincipal user, CancellationToken ct) =>
        TypedResults.Content((await LoadAsync(id, db, user, ct)).Comparison!.Csv(), "text/csv; charset=utf-8");

    public static async Task<ContentHttpResult> Markdown(Guid id, AdaMergingDbContext db, ClaimsPrincipal user, CancellationToken ct)
    {
        var e = await LoadAsync(id, db, user, ct);
        return TypedResults.Content(e.Comparison!.Markdown(e.Name), "text/markdown; charset=utf-8");
    }

    public static async Task<FileContentHttpResult> Plot(Guid id, AdaMergingDbContext db, ClaimsPrincipal user, CancellationToken ct)
    {
        var e = await LoadAsync(id, db, user, ct);
        return TypedResults.File(ComparisonPlot.Png(e.Comparison!, e.Name), "image/png");
    }

    private static async Task<ExperimentResponse> LoadAsync(Guid id, AdaMergingDbContext db, ClaimsPrincipal user, CancellationToken ct)
    {
        var experiment = await db.Experiments.AsNoTracking().VisibleTo(user).SingleOrDefaultAsync(e => e.Id == id, ct)
            ?? throw ApiProblemException.NotFound($"experiment {id} does not exist");
        var ids = experiment.Runs.Select(r => r.MergeId).ToList();
        var merges = await db.Merges.AsNoTracking().Where(m => ids.Contains(m.Id)).ToDictionaryAsync(m => m.Id, ct);
        return ExperimentResponse.From(experiment, merges, withComparison: true);
    }
}
