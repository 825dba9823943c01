using AdaMerging.Infrastructure.Options;
using AdaMerging.Infrastructure.Postgres;
using Microsoft.Extensions.Configuration;

namespace AdaMerging.Infrastructure.Persistence;

/// <summary>
/// The connection string the process uses: ConnectionStrings:Postgres when set, or else the embedded default, a
/// private cluster under the data root that is created on first use and started from the system's PostgreSQL
/// programs. Known once <see cref="DatabaseStartup"/>, the first hosted service, has run.
/// </summary>
public sealed class DatabaseConnection
{
    public const string EmbeddedDatabase = "adamerging";

    private string? _connectionString;

    public string ConnectionString =>
        _connectionString ?? throw new InvalidOperationException("the database is not started yet: DatabaseStartup runs before every other hosted service");

    internal void Started(string connectionString) => _connectionString = connectionString;

    public static async Task<string> ResolveAsync(IConfiguration configuration, CancellationToken ct)
    {
        var configured = configuration.GetConnectionString("Postgres");
        if (!string.IsNullOrWhiteSpace(configured)) return configured;
        var dataRoot = configuration[$"{AdaMergingOptions.Section}:{nameof(AdaMergingOptions.DataRoot)}"] ?? new AdaMergingOptions().DataRoot;
        var cluster = await PostgresCluster.StartPersistentAsync(Path.Combine(dataRoot, "postgres"), EmbeddedDatabase, ct);
        return cluster.ConnectionString(EmbeddedDatabase);
    }
}
