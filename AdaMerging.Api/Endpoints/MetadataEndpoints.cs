using AdaMerging.Domain.Jobs;
using System.Security.Claims;
using AdaMerging.Api.Access;
using AdaMerging.Api.Errors;
using AdaMerging.Domain.Store;
using AdaMerging.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;

namespace AdaMerging.Api.Endpoints;

/// <summary>A PATCH body: the resource's metadata, replaced whole.</summary>
public sealed record MetadataUpdate(IReadOnlyDictionary<string, string> Metadata);

/// <summary>PATCH {path}/{id} for every resource: replaces its user metadata (at most 16 pairs, keys 1-64, values ≤ 512 characters).</summary>
public static class MetadataEndpoints
{
    public static RouteHandlerBuilder MapMetadata<TEntity, TResponse>(this RouteGroupBuilder group, string kind, Func<TEntity, TResponse> respond)
        where TEntity : class, IListed, IAnnotated =>
        group.MapPatch("/{id:guid}", async (Guid id, MetadataUpdate update, AdaMergingDbContext db, ClaimsPrincipal user, CancellationToken ct) =>
            {
                var problems = update.Metadata is null
                    ? [new RequestProblem(RequestProblem.At("metadata"), RequestProblemCode.Required, "metadata is required (an object of strings; {} clears it)")]
                    : ResourceMetadata.Problems(update.Metadata);
                if (problems.Count > 0) throw ApiProblemException.Invalid(string.Join("; ", problems), problems);
                while (true)
                {
                    var entity = await db.Set<TEntity>().VisibleTo(user).SingleOrDefaultAsync(e => e.Id == id, ct)
                        ?? throw ApiProblemException.NotFound($"{kind} {id} does not exist");
                    entity.Annotate(update.Metadata!);
                    try
                    {
                        await db.SaveChangesAsync(ct);
                        return TypedResults.Ok(respond(entity));
                    }
                    catch (DbUpdateConcurrencyException)
                    {
                        db.ChangeTracker.Clear(); // a merge's status moved meanwhile (docs/api.md, "Cancelling"): labels do not care, label what it is now
                    }
                }
            })
            .WithName($"update{OperationNames.Pascal(kind)}Metadata")
            .WithSummary($"Replace a {kind}'s metadata (string key/values: at most {ResourceMetadata.MaxPairs}, keys 1-{ResourceMetadata.MaxKey}, values ≤ {ResourceMetadata.MaxValue} characters)")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
}
