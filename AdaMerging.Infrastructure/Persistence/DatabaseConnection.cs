using AdaMerging.Infrastructure.Options;
using AdaMerging.Infrastructure.Postgres;
using Microsoft.Extensions.Configuration;

namespace AdaMerging.Infrastructure.Persistence;

/// <summary>
/// The connection string the process uses: ConnectionStrings:Postgres when set, or else, only when asked for
/// (AdaMerging:EmbeddedDatabase, which the demo and the benchmarks set), a private cluster under the data root that is
/// created on first use and started from the system's PostgreSQL programs. Neither stops the host with a message: a
/// worker host with a typo in its settings must not start a database of its own and serve nothing.
/// Known once <see cref="DatabaseStartup"/>, the first hosted service, has run.
/// </summary>
public sealed class DatabaseConnection
{
    public const string EmbeddedDatabase = "adamerging";

    private string? _connectionString;

    public string ConnectionString =>
        _connectionString ?? throw new InvalidOperationException("the database is not started yet: DatabaseStartup runs before every other hosted service");

    internal void Started(string connectionString) => _connectionString = connectionString;

    public const string MissingMessage = "No database: set ConnectionStrings:Postgres (environment ConnectionStrings__Postgres, or "
        + "ConnectionStrings__Postgres_FILE naming a file that holds it) to the service's PostgreSQL, or AdaMerging:EmbeddedDatabase=true "
        + "(AdaMerging__EmbeddedDatabase) to run a private cluster under the data root for a demo on one machine.";

    public static async Task<string> ResolveAsync(IConfiguration configuration, CancellationToken ct)
    {
        var configured = configuration.GetConnectionString("Postgres");
        if (!string.IsNullOrWhiteSpace(configured)) return configured;
        if (!configuration.GetValue<bool>($"{AdaMergingOptions.Section}:{nameof(AdaMergingOptions.EmbeddedDatabase)}"))
            throw new InvalidOperationException(MissingMessage);
        var dataRoot = configuration[$"{AdaMergingOptions.Section}:{nameof(AdaMergingOptions.DataRoot)}"] ?? new AdaMergingOptions().DataRoot;
        var cluster = await PostgresCluster.StartPersistentAsync(Path.Combine(dataRoot, "postgres"), EmbeddedDatabase, ct);
        return cluster.ConnectionString(EmbeddedDatabase);
    }
}
