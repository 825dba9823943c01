using AdaMerging.Domain.Store;
using AdaMerging.Infrastructure.Options;
using AdaMerging.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;

namespace AdaMerging.Worker.Cli;

/// <summary>`keys create --owner NAME [--admin true]`: creates an API key in the configured (or embedded) database and prints its secret once.</summary>
public static class KeyCommands
{
    public static async Task<int> CreateAsync(CommandOptions options)
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddEnvironmentVariables()
            .AddFileSecrets()
            .Build();
        var connection = await DatabaseConnection.ResolveAsync(configuration, CancellationToken.None);
        await using var db = new AdaMergingDbContext(new DbContextOptionsBuilder<AdaMergingDbContext>().UseNpgsql(connection).Options);
        await db.Database.MigrateAsync();
        var (key, secret) = ApiKey.Create(options.Required("owner"), options.One("admin", "false") == "true", TimeProvider.System.GetUtcNow());
        db.ApiKeys.Add(key);
        await db.SaveChangesAsync();
        Console.WriteLine(secret);
        return 0;
    }
}
