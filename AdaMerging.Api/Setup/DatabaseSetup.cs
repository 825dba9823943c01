using AdaMerging.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;

namespace AdaMerging.Api.Setup;

public static class DatabaseSetup
{
    /// <summary>
    /// Applies EF migrations before the API takes requests. (EnsureCreated would silently do nothing once
    /// Hangfire's tables exist in the same database.)
    /// </summary>
    public static async Task MigrateDatabaseAsync(this WebApplication app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<AdaMergingDbContext>().Database.MigrateAsync();
    }
}
