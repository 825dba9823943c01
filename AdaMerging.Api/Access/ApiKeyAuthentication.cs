using System.Security.Claims;
using System.Text.Encodings.Web;
using AdaMerging.Domain.Store;
using AdaMerging.Infrastructure.Persistence;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AdaMerging.Api.Access;

/// <summary>Authenticates a request by its API key (header X-Api-Key, or Authorization: Bearer), looked up by hash.</summary>
public sealed class ApiKeyAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    AdaMergingDbContext db) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string Header = "X-Api-Key";
    public const string AdminClaim = "adamerging:admin";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var secret = Request.Headers[Header].ToString();
        if (secret.Length == 0 && Request.Headers.Authorization.ToString() is { } auth && auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            secret = auth["Bearer ".Length..].Trim();
        if (secret.Length == 0) return AuthenticateResult.NoResult();
        if (secret.Length > 200) return AuthenticateResult.Fail("the API key is not valid");
        var hash = ApiKey.HashOf(secret);
        var key = await db.ApiKeys.AsNoTracking().SingleOrDefaultAsync(k => k.Hash == hash && k.RevokedAt == null, Context.RequestAborted);
        if (key is null) return AuthenticateResult.Fail("the API key is not valid");
        var claims = new List<Claim> { new(ClaimTypes.Name, key.Owner), new(ClaimTypes.NameIdentifier, key.Id.ToString()) };
        if (key.IsAdmin) claims.Add(new Claim(AdminClaim, "true"));
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName)), SchemeName));
    }
}

public static class Callers
{
    public static string Owner(this ClaimsPrincipal user) => user.Identity?.Name ?? throw new InvalidOperationException("the request is not authenticated");

    public static bool IsAdmin(this ClaimsPrincipal user) => user.HasClaim(ApiKeyAuthentication.AdminClaim, "true");

    /// <summary>What the caller may see: its own, or everything for an admin. Others' things answer 404, never 403.</summary>
    public static IQueryable<T> VisibleTo<T>(this IQueryable<T> query, ClaimsPrincipal user) where T : class, IOwned
    {
        if (user.IsAdmin()) return query;
        var owner = user.Owner();
        return query.Where(x => x.Owner == owner);
    }
}
