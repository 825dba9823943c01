using AdaMerging.Infrastructure.Blobs;
using AdaMerging.Infrastructure.Options;
using AdaMerging.Infrastructure.Persistence;
using AdaMerging.Infrastructure.Postgres;
using AdaMerging.Infrastructure.Queue;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AdaMerging.Infrastructure;

public static class AdaMergingServiceCollectionExtensions
{
    /// <summary>What the API and the worker share: options, the database, the blob store, the queue and the clock.</summary>
    public static IServiceCollection AddAdaMergingCore(this IServiceCollection services, IConfiguration configuration, string connectionString)
    {
        services.AddOptions<AdaMergingOptions>()
            .Bind(configuration.GetSection(AdaMergingOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddDbContext<AdaMergingDbContext>(o => o.UseNpgsql(connectionString));
        services.AddSingleton(sp => new BlobStore(sp.GetRequiredService<IOptions<AdaMergingOptions>>().Value.DataRoot));
        services.AddSingleton(TimeProvider.System);
        services.AddMergeQueue(connectionString);
        return services;
    }

    /// <summary>
    /// The configured connection string, or else the embedded default: a private cluster under the data root,
    /// started (and created on first use) from the system's PostgreSQL programs.
    /// </summary>
    public static async Task<string> ResolveConnectionStringAsync(IConfiguration configuration, CancellationToken ct = default)
    {
        var configured = configuration.GetConnectionString("Postgres");
        if (!string.IsNullOrWhiteSpace(configured)) return configured;
        var dataRoot = configuration[$"{AdaMergingOptions.Section}:{nameof(AdaMergingOptions.DataRoot)}"] ?? new AdaMergingOptions().DataRoot;
        var cluster = await PostgresCluster.StartPersistentAsync(Path.Combine(dataRoot, "postgres"), ct);
        const string database = "adamerging";
        await using (var connection = new NpgsqlConnection(cluster.ConnectionString()))
        {
            await connection.OpenAsync(ct);
            await using var exists = new NpgsqlCommand($"SELECT 1 FROM pg_database WHERE datname = '{database}'", connection);
            if (await exists.ExecuteScalarAsync(ct) is null) await cluster.CreateDatabaseAsync(database, ct);
        }
        return cluster.ConnectionString(database);
    }
}
