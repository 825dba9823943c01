using AdaMerging.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;

namespace AdaMerging.Api.Setup;

public static class DatabaseSetup
{
    /// <summary>
    /// Applies EF migrations before the API takes requests, right after the database has started (hosted services
    /// start in order; Kestrel only after all of them). EnsureCreated would silently do nothing once Hangfire's tables
    /// exist in the same database.
    /// </summary>
    public static IServiceCollection AddDatabaseMigration(this IServiceCollection services) => services.AddHostedService<DatabaseMigration>();

    private sealed class DatabaseMigration(IServiceScopeFactory scopes) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            await using var scope = scopes.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<AdaMergingDbContext>().Database.MigrateAsync(cancellationToken);
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
