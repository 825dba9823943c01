using System.Net;
using System.Text.Json;
using AdaMerging.Domain.Methods;
using AdaMerging.Tests.Support;
using Microsoft.EntityFrameworkCore;

namespace AdaMerging.Tests.Api;

public sealed class HostingTests(ServiceFixture service) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task Liveness_answers_healthy()
    {
        using var response = await service.Anonymous.GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Readiness_answers_healthy_with_the_database_and_the_workers_alive_per_queue()
    {
        using var response = await service.Anonymous.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var ready = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("Healthy", ready.GetProperty("status").GetString());
        Assert.Equal("Healthy", ready.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
        var workers = ready.GetProperty("checks").GetProperty("workers").GetProperty("data");
        // the fixture's merge queue (one CPU device slot), the CPU queue and the callbacks
        Assert.Equal(("1", "1", "2"), (workers.GetProperty("test").GetString(), workers.GetProperty("cpu").GetString(), workers.GetProperty("callbacks").GetString()));
    }

    [Fact]
    public async Task The_OpenAPI_document_describes_every_endpoint_and_the_UI_is_served_at_swagger()
    {
        var document = JsonDocument.Parse(await service.Anonymous.GetStringAsync("/swagger/v1/swagger.json")).RootElement;
        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/checkpoints", paths);
        Assert.Contains("/checkpoints/{id}", paths);
        Assert.Contains("/merges", paths);
        Assert.Contains("/merges/{id}", paths);
        Assert.Contains("/merges/{id}/model", paths);
        using var ui = await service.Anonymous.GetAsync("/swagger/index.html");
        Assert.Equal(HttpStatusCode.OK, ui.StatusCode);
    }

    /// <summary>
    /// docs/openapi.json is the committed contract: a change of surface fails here until the file is regenerated
    /// (ADAMERGING_UPDATE_OPENAPI=1 dotnet test --filter OpenAPI), so it shows up in review.
    /// </summary>
    [Fact]
    public async Task The_committed_OpenAPI_document_matches_the_service()
    {
        var live = await service.Anonymous.GetStringAsync("/swagger/v1/swagger.json");
        var path = Path.Combine(Repository.Root(), "docs", "openapi.json");
        if (Environment.GetEnvironmentVariable("ADAMERGING_UPDATE_OPENAPI") == "1") await File.WriteAllTextAsync(path, live.ReplaceLineEndings("\n") + "\n");
        Assert.True(File.Exists(path), $"{path} is missing");
        Assert.Equal((await File.ReadAllTextAsync(path)).TrimEnd(), live.ReplaceLineEndings("\n").TrimEnd());
        Assert.Contains("\"granularity\": \"layer\"", live, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_OpenAPI_method_enum_and_options_schema_come_from_the_method_registry()
    {
        var schemas = JsonDocument.Parse(await service.Anonymous.GetStringAsync("/swagger/v1/swagger.json")).RootElement
            .GetProperty("components").GetProperty("schemas");
        var request = schemas.GetProperty("MergeRequest");
        Assert.Equal(MergeMethods.All.Select(m => m.Name), request.GetProperty("properties").GetProperty("method").GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["base", "method", "tasks"], request.GetProperty("required").EnumerateArray().Select(e => e.GetString()).Order(StringComparer.Ordinal));
        var options = schemas.GetProperty("MergeOptions").GetProperty("properties");
        foreach (var method in MergeMethods.All)
        foreach (var option in MergeMethods.OptionsOf(method))
        {
            var declared = options.GetProperty(option.Name);
            // x-default, never "default": generators would fill it into every request (one method's options sent to another)
            Assert.False(declared.TryGetProperty("default", out _), $"{option.Name} declares a JSON-Schema default");
            // Where methods declare an option differently, each method's default is under x-method-defaults.
            if (declared.TryGetProperty("x-method-defaults", out var perMethod))
                Assert.Equal(JsonSerializer.Serialize(option.WireDefault), JsonSerializer.Serialize(perMethod.GetProperty(method.Name)));
            else if (option.WireDefault is null) Assert.False(declared.TryGetProperty("x-default", out _), $"{option.Name} has no default value to declare");
            else Assert.Equal(JsonSerializer.Serialize(option.WireDefault), JsonSerializer.Serialize(declared.GetProperty("x-default")));
            if (option.Allowed is { } allowed) Assert.Equal(allowed, declared.GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
        }
        Assert.Equal(["task", "layer"], options.GetProperty("granularity").GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["dare", "adamerging", "adarank"], options.GetProperty("seed").GetProperty("x-methods").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(1e-5, options.GetProperty("learningRate").GetProperty("x-method-defaults").GetProperty("wudi").GetDouble());
        Assert.Equal(10, options.GetProperty("learningRate").GetProperty("maximum").GetDouble());   // the widest of the methods' ranges
        Assert.True(options.GetProperty("topK").GetProperty("exclusiveMinimum").GetBoolean()); // OpenAPI 3.0: a flag beside minimum
        Assert.Equal(0, options.GetProperty("topK").GetProperty("minimum").GetDouble());
    }

    [Fact]
    public async Task Migrations_created_the_service_tables_beside_Hangfires()
    {
        await using var db = service.NewDbContext();
        await using var connection = new Npgsql.NpgsqlConnection(db.Database.GetConnectionString());
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(
            "SELECT string_agg(table_schema || '.' || table_name, ',' ORDER BY table_schema || '.' || table_name) FROM information_schema.tables WHERE table_name IN ('checkpoints','merges','job')",
            connection);
        var tables = (string)(await command.ExecuteScalarAsync())!;
        Assert.Equal("hangfire.job,public.checkpoints,public.merges", tables);
    }
}
