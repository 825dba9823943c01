using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace AdaMerging.Infrastructure.Persistence;

/// <summary>
/// A PostgreSQL session advisory lock on its own connection: exclusive across every API host, and released by the
/// database when the holder's connection dies with its process, so a crash never leaves it held.
/// </summary>
public sealed class AdvisoryLock : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;

    private AdvisoryLock(NpgsqlConnection connection) => _connection = connection;

    /// <summary>The lock on <paramref name="name"/>, or null when another holder has it.</summary>
    public static async Task<AdvisoryLock?> TryAcquireAsync(DatabaseConnection database, string name, CancellationToken ct)
    {
        var connection = new NpgsqlConnection(database.ConnectionString);
        bool held = false;
        try
        {
            await connection.OpenAsync(ct);
            await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(@id)", connection);
            command.Parameters.AddWithValue("id", IdOf(name));
            held = (bool)(await command.ExecuteScalarAsync(ct))!;
            return held ? new AdvisoryLock(connection) : null;
        }
        finally
        {
            if (!held) await connection.DisposeAsync();
        }
    }

    /// <summary>The holder's own connection: work done on it ends, and the lock with it, when the holder is disposed.</summary>
    public NpgsqlConnection Connection => _connection;

    /// <summary>The name every holder of one resumable upload locks (PATCH, DELETE, the expiry sweep).</summary>
    public static string Upload(Guid uploadId) => $"upload\n{uploadId}";

    /// <summary>The name a merge's input is locked under while a submit or a delete checks it (transaction-scoped).</summary>
    public static string Input(Guid id) => $"input\n{id}";

    /// <summary>The name one owner's Idempotency-Key is locked under while its first request runs.</summary>
    public static string IdempotencyKey(string owner, string key) => $"idempotency\n{owner}\n{key}";

    /// <summary>The name hosts install the queue's schema under at start, one at a time (DatabaseStartup).</summary>
    public const string SchemaInstall = "schema install";

    /// <summary>SHA-256 of the name, cut to the 64 bits an advisory lock takes.</summary>
    public static long IdOf(string name) => BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes(name)), 0);

    /// <remarks>
    /// Unlocked explicitly: disposing returns the connection to Npgsql's pool, whose session (and so the lock) lives on
    /// until the connection is reused. A holder that dies loses its connection, and the database releases the lock then.
    /// </remarks>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_connection.State == System.Data.ConnectionState.Open)
            {
                await using var command = new NpgsqlCommand("SELECT pg_advisory_unlock_all()", _connection);
                await command.ExecuteNonQueryAsync();
            }
        }
        finally
        {
            await _connection.DisposeAsync();
        }
    }
}
