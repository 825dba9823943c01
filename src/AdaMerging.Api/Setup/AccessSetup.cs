using AdaMerging.Api.Access;
using Hangfire;
using Hangfire.Dashboard;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;

namespace AdaMerging.Api.Setup;

public static class AccessSetup
{
    public const string AdminPolicy = "admin";

    /// <summary>Every endpoint needs an API key unless it allows anonymous callers (health); admin endpoints need an admin key.</summary>
    public static IServiceCollection AddAccess(this IServiceCollection services)
    {
        services.AddAuthentication(ApiKeyAuthentication.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthentication>(ApiKeyAuthentication.SchemeName, null);
        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
            .AddPolicy(AdminPolicy, p => p.RequireAuthenticatedUser().RequireClaim(ApiKeyAuthentication.AdminClaim, "true"));
        return services;
    }

    public static WebApplication UseAccess(this WebApplication app)
    {
        app.UseAuthentication();
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
