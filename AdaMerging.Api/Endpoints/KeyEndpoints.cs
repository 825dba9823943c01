using AdaMerging.Api.Errors;
using AdaMerging.Api.Setup;
using AdaMerging.Domain.Store;
using AdaMerging.Infrastructure.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace AdaMerging.Api.Endpoints;

public sealed record CreateKeyRequest(string Owner, bool Admin = false);

public sealed record CreatedKeyResponse(Guid Id, string Owner, bool Admin, string Hint, string Secret);

public static class KeyEndpoints
{
    public static WebApplication MapKeys(this WebApplication app)
    {
        var group = app.MapGroup("/keys").WithTags("API keys").RequireAuthorization(AccessSetup.AdminPolicy);
        group.MapPost("/", Create).WithName("createKey").WithSummary("Create an API key for an owner (admin key required); the secret is shown once")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        group.MapDelete("/{id:guid}", Revoke).WithName("revokeKey").WithSummary("Revoke an API key (admin key required)").ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    public static async Task<Created<CreatedKeyResponse>> Create(CreateKeyRequest request, AdaMergingDbContext db, TimeProvider time, CancellationToken ct)
    {
        (ApiKey key, string secret) created;
        try
        {
            created = ApiKey.Create(request.Owner, request.Admin, time.GetUtcNow());
        }
        catch (ArgumentException e)
        {
            throw ApiProblemException.Invalid(e.Message);
        }
        db.ApiKeys.Add(created.key);
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/keys/{created.key.Id}",
            new CreatedKeyResponse(created.key.Id, created.key.Owner, created.key.IsAdmin, created.key.Hint, created.secret));
    }

    public static async Task<NoContent> Revoke(Guid id, AdaMergingDbContext db, TimeProvider time, CancellationToken ct)
    {
        var key = await db.ApiKeys.SingleOrDefaultAsync(k => k.Id == id, ct) ?? throw ApiProblemException.NotFound($"API key {id} does not exist");
        key.Revoke(time.GetUtcNow());
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }
}
