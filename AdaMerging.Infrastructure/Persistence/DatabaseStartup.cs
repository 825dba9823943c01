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
        // An API and a worker started together on a fresh database both install the schema; two installs at once
        // failed one of them with a serialization error (SQLSTATE 40001, seen starting bench/reproduce-resnet.sh), so
        // hosts take turns under a session advisory lock, unlocked explicitly (the pooled session outlives Dispose).
        long key = AdvisoryLock.IdOf(AdvisoryLock.SchemaInstall);
        await using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({key})", db))
            await take.ExecuteNonQueryAsync(cancellationToken);
        try
        {
            PostgreSqlObjectsInstaller.Install(db, queueOptions.SchemaName);
        }
        finally
        {
            await using var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({key})", db);
            await release.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
