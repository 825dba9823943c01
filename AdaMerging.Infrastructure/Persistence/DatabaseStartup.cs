using Hangfire.PostgreSql;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace AdaMerging.Infrastructure.Persistence;

/// <summary>
/// The first hosted service of the API and the worker: resolves the database (starting the embedded cluster when no
/// connection string is configured) and installs Hangfire's schema, before anything else that needs them starts.
/// </summary>
public sealed class DatabaseStartup(DatabaseConnection connection, IConfiguration configuration, PostgreSqlStorageOptions queueOptions) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        connection.Started(await DatabaseConnection.ResolveAsync(configuration, cancellationToken));
        await using var db = new NpgsqlConnection(connection.ConnectionString);
        await db.OpenAsync(cancellationToken);
        PostgreSqlObjectsInstaller.Install(db, queueOptions.SchemaName);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
