using AdaMerging.Infrastructure.Persistence;
using Npgsql;
using NpgsqlTypes;

namespace AdaMerging.Api.Idempotency;

/// <summary>
/// The idempotency_keys table, on the connection that holds the key's advisory lock while the request runs (plain SQL:
/// the endpoint's own DbContext saves and clears its changes independently of these rows).
/// </summary>
internal sealed class IdempotencyKeyStore(NpgsqlConnection connection)
{
    private const string Columns = "\"Owner\", \"Key\", \"Operation\", \"Fingerprint\", \"CreatedAt\", \"ExpiresAt\", \"ResponseStatus\", \"ResponseContentType\", \"ResponseLocation\", \"ResponseBody\"";

    /// <summary>The key's record unless it expired (an expired one is removed: the key starts afresh).</summary>
    public async Task<IdempotencyRecord?> FindAsync(string owner, string key, DateTimeOffset now, CancellationToken ct)
    {
        await ExecuteAsync("DELETE FROM idempotency_keys WHERE \"Owner\" = @owner AND \"Key\" = @key AND \"ExpiresAt\" <= @now",
            [("owner", owner), ("key", key), ("now", now)], ct);
        await using var command = Command($"SELECT {Columns} FROM idempotency_keys WHERE \"Owner\" = @owner AND \"Key\" = @key", [("owner", owner), ("key", key)]);
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct)) return null;
        return new IdempotencyRecord
        {
            Owner = reader.GetString(0), Key = reader.GetString(1), Operation = reader.GetString(2), Fingerprint = reader.GetString(3),
            CreatedAt = reader.GetFieldValue<DateTimeOffset>(4), ExpiresAt = reader.GetFieldValue<DateTimeOffset>(5),
            ResponseStatus = reader.IsDBNull(6) ? null : reader.GetInt32(6),
            ResponseContentType = reader.IsDBNull(7) ? null : reader.GetString(7),
            ResponseLocation = reader.IsDBNull(8) ? null : reader.GetString(8),
            ResponseBody = reader.IsDBNull(9) ? null : reader.GetFieldValue<byte[]>(9),
        };
    }

    public Task StartAsync(IdempotencyRecord record, CancellationToken ct) =>
        ExecuteAsync($"INSERT INTO idempotency_keys ({Columns}) VALUES (@owner, @key, @operation, @fingerprint, @created, @expires, NULL, NULL, NULL, NULL) "
            + "ON CONFLICT (\"Owner\", \"Key\") DO NOTHING",
            [("owner", record.Owner), ("key", record.Key), ("operation", record.Operation), ("fingerprint", record.Fingerprint),
             ("created", record.CreatedAt), ("expires", record.ExpiresAt)], ct);

    public Task CompleteAsync(IdempotencyRecord record, int status, string? contentType, string? location, byte[] body, CancellationToken ct) =>
        ExecuteAsync("UPDATE idempotency_keys SET \"ResponseStatus\" = @status, \"ResponseContentType\" = @type, \"ResponseLocation\" = @location, "
            + "\"ResponseBody\" = @body WHERE \"Owner\" = @owner AND \"Key\" = @key",
            [("status", status), ("type", (object?)contentType ?? DBNull.Value), ("location", string.IsNullOrEmpty(location) ? DBNull.Value : location),
             ("body", body), ("owner", record.Owner), ("key", record.Key)], ct);

    public Task ForgetAsync(string owner, string key, CancellationToken ct) =>
        ExecuteAsync("DELETE FROM idempotency_keys WHERE \"Owner\" = @owner AND \"Key\" = @key", [("owner", owner), ("key", key)], ct);

    private async Task<int> ExecuteAsync(string sql, (string Name, object Value)[] parameters, CancellationToken ct)
    {
        await using var command = Command(sql, parameters);
        return await command.ExecuteNonQueryAsync(ct);
    }

    private NpgsqlCommand Command(string sql, (string Name, object Value)[] parameters)
    {
        var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
            command.Parameters.Add(value is byte[] ? new NpgsqlParameter(name, NpgsqlDbType.Bytea) { Value = value } : new NpgsqlParameter(name, value));
        return command;
    }
}
