using AdaMerging.Domain.Jobs;
using AdaMerging.Infrastructure.Persistence;
using AdaMerging.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace AdaMerging.Tests.Infrastructure.Persistence;

/// <summary>
/// The migration that brought architectures and merge input rows, on a database holding what the release before it
/// stored: merges get their input rows from their requests, checkpoint layouts become the registry's names.
/// </summary>
public sealed class ArchitecturesMigrationTests
{
    private const string Before = "20261130122236_ResumableHeadsAndDatasets";

    [Fact]
    public async Task Existing_merges_get_one_input_row_per_resource_and_role_and_layouts_their_registry_names()
    {
        var connection = await TestPostgres.CreateDatabaseAsync();
        await using var db = new AdaMergingDbContext(new DbContextOptionsBuilder<AdaMergingDbContext>().UseNpgsql(connection).Options);
        var migrator = db.GetService<IMigrator>();
        await migrator.MigrateAsync(Before);
        Guid merge = Guid.NewGuid(), source = Guid.NewGuid(), baseId = Guid.NewGuid(), t1 = Guid.NewGuid(), t2 = Guid.NewGuid(), head = Guid.NewGuid(), data = Guid.NewGuid();
        var request = $$$"""
            {"method":"adamerging","base":"{{{baseId}}}","tasks":[
              {"name":"mnist","checkpoint":"{{{t1}}}","head":"{{{head}}}","adaptationData":"{{{data}}}","evaluationData":"{{{data}}}"},
              {"name":"svhn","checkpoint":"{{{t2}}}"}],
             "options":{"coefficientsFrom":"{{{source}}}"}}
            """;
        await using (var sql = new NpgsqlConnection(connection))
        {
            await sql.OpenAsync();
            await InsertAsync(sql, "merges", new() { ["Id"] = merge.ToString(), ["Method"] = "adamerging", ["RequestJson"] = request, ["Status"] = "Queued" });
            await InsertAsync(sql, "checkpoints", new() { ["Id"] = baseId.ToString(), ["Name"] = "b", ["Status"] = "Sealed", ["Layout"] = "OpenClip" });
        }

        await migrator.MigrateAsync();

        var rows = await db.MergeInputs.AsNoTracking().Where(i => i.MergeId == merge).ToListAsync();
        Assert.Equal(
            new (Guid, MergeInputRole, string?)[]
            {
                (baseId, MergeInputRole.Base, null), (t1, MergeInputRole.Checkpoint, "mnist"), (head, MergeInputRole.Head, "mnist"),
                (data, MergeInputRole.AdaptationData, "mnist"), (data, MergeInputRole.EvaluationData, "mnist"), (t2, MergeInputRole.Checkpoint, "svhn"),
                (source, MergeInputRole.Coefficients, null),
            }.OrderBy(r => r.Item1).ThenBy(r => r.Item2),
            rows.Select(r => (r.ResourceId, r.Role, r.Task)).OrderBy(r => r.Item1).ThenBy(r => r.Item2));
        Assert.Equal("open_clip", (await db.Checkpoints.AsNoTracking().SingleAsync(c => c.Id == baseId)).Layout);
    }

    /// <summary>A row as the release before stored it: the given columns, and every other required one at a plain value of its type.</summary>
    private static async Task InsertAsync(NpgsqlConnection sql, string table, Dictionary<string, string> values)
    {
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        await using (var columns = new NpgsqlCommand(
            "SELECT column_name, data_type, udt_name, is_nullable = 'NO' AND column_default IS NULL FROM information_schema.columns WHERE table_name = @t", sql))
        {
            columns.Parameters.AddWithValue("t", table);
            await using var reader = await columns.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                types[reader.GetString(0)] = reader.GetString(2);
                if (!reader.GetBoolean(3)) continue;
                values.TryAdd(reader.GetString(0), reader.GetString(1) switch
                {
                    "jsonb" => "[]",
                    "boolean" => "false",
                    "timestamp with time zone" => "2026-11-30T00:00:00Z",
                    "uuid" => Guid.NewGuid().ToString(),
                    "ARRAY" => "{}",
                    "text" or "character varying" => "",
                    _ => "0",
                });
            }
        }
        var names = values.Keys.ToList();
        await using var insert = new NpgsqlCommand(
            $"INSERT INTO {table} ({string.Join(", ", names.Select(n => $"\"{n}\""))}) VALUES ({string.Join(", ", names.Select((n, i) => $"@p{i}::text::{types[n]}"))})", sql);
        for (int i = 0; i < names.Count; i++) insert.Parameters.AddWithValue($"p{i}", values[names[i]]);
        await insert.ExecuteNonQueryAsync();
    }
}
