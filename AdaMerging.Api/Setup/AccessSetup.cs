using AdaMerging.Api.Access;
using Hangfire;
using Hangfire.Dashboard;
using Microsoft.AspNetCore.Authentication;
using System.Threading.RateLimiting;
using AdaMerging.Infrastructure.Options;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace AdaMerging.Api.Setup;

public static class AccessSetup
{
    public const string AdminPolicy = "admin";

    /// <summary>Every endpoint needs an API key unless it allows anonymous callers (health); admin endpoints need an admin key.</summary>
    public static IServiceCollection AddAccess(this IServiceCollection services)
    {
        services.AddAuthentication(ApiKeyAuthentication.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthentication>(ApiKeyAuthentication.SchemeName, null);
        // Per authenticated key (or per address for callers without a valid key, whatever header they send), a token
        // bucket on the service's clock: bursts of a second's worth, then the configured rate. 429s say when to retry.
        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.OnRejected = (context, _) =>
            {
                var wait = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(1);
                context.HttpContext.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                return ValueTask.CompletedTask;
            };
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
            {
                var perSecond = http.RequestServices.GetRequiredService<IOptions<AdaMergingOptions>>().Value.RequestsPerSecondPerKey;
                var clock = http.RequestServices.GetRequiredService<TimeProvider>();
                var partition = http.User.FindFirst(System.Security.Claims.ClaimTypes.NameIdentifier)?.Value is { } keyId
                    ? "key:" + keyId
                    : "ip:" + http.Connection.RemoteIpAddress;
                return RateLimitPartition.Get(partition, _ => new ClockedTokenBucket(perSecond, clock));
            });
        });
        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
            .AddPolicy(AdminPolicy, p => p.RequireAuthenticatedUser().RequireClaim(ApiKeyAuthentication.AdminClaim, "true"));
        return services;
    }

    public static WebApplication UseAccess(this WebApplication app)
    {
        app.UseAuthentication(); // first: the rate limit is keyed on the key it authenticates, not on the raw header
        app.UseRateLimiter();
        app.UseAuthorization();
        // The dashboard shows every owner's jobs: admin keys only.
        app.UseHangfireDashboard("/hangfire", new DashboardOptions { Authorization = [new AdminDashboard()], AppPath = null },
            app.Services.GetRequiredService<JobStorage>());
        return app;
    }

    private sealed class AdminDashboard : IDashboardAuthorizationFilter
    {
        public bool Authorize(DashboardContext context) => context.GetHttpContext().User.IsAdmin();
    }
}
