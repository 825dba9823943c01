using AdaMerging.Infrastructure.Options;
using AdaMerging.Infrastructure.Postgres;
using Microsoft.Extensions.Configuration;

namespace AdaMerging.Infrastructure.Persistence;

/// <summary>
/// The connection string the process uses: ConnectionStrings:Postgres when set, or else the embedded default,
/// a private cluster under the data root that is created on first use and started from the system's PostgreSQL programs.
/// </summary>
public sealed class DatabaseConnection(string connectionString)
{
    public const string EmbeddedDatabase = "adamerging";

    public string ConnectionString { get; } = connectionString;

    public static DatabaseConnection Resolve(IConfiguration configuration) =>
        ResolveAsync(configuration, CancellationToken.None).GetAwaiter().GetResult();

    public static async Task<DatabaseConnection> ResolveAsync(IConfiguration configuration, CancellationToken ct)
    {
        var configured = configuration.GetConnectionString("Postgres");
        if (!string.IsNullOrWhiteSpace(configured)) return new DatabaseConnection(configured);
        var dataRoot = configuration[$"{AdaMergingOptions.Section}:{nameof(AdaMergingOptions.DataRoot)}"] ?? new AdaMergingOptions().DataRoot;
        var cluster = await PostgresCluster.StartPersistentAsync(Path.Combine(dataRoot, "postgres"), EmbeddedDatabase, ct);
        return new DatabaseConnection(cluster.ConnectionString(EmbeddedDatabase));
    }
}
