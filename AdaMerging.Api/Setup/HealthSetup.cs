using AdaMerging.Infrastructure.Persistence;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;

namespace AdaMerging.Api.Setup;

public static class HealthSetup
{
    public static IServiceCollection AddHealth(this IServiceCollection services)
    {
        services.AddHealthChecks().AddDbContextCheck<AdaMergingDbContext>("database", tags: ["ready"])
            .AddCheck<WorkerHealthCheck>("workers", tags: ["ready"]);
        return services;
    }

    /// <summary>/health/live: the process answers. /health/ready: it can also reach its database, and how many workers are alive per queue (JSON).</summary>
    public static WebApplication MapHealth(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready"), ResponseWriter = WorkerHealthCheck.WriteAsync })
            .AllowAnonymous();
        return app;
    }
}
