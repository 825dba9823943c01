using Hangfire.PostgreSql;
using Npgsql;

namespace AdaMerging.Infrastructure.Persistence;

/// <summary>Hangfire's connections, opened from the connection string as it is when they are needed (after start).</summary>
public sealed class DeferredConnectionFactory(DatabaseConnection connection) : IConnectionFactory
{
    // Enlist off, as Hangfire's own factory sets it: its transactions are its own, never an ambient TransactionScope.
    public NpgsqlConnection GetOrCreateConnection() => new(new NpgsqlConnectionStringBuilder(connection.ConnectionString) { Enlist = false }.ConnectionString);
}
