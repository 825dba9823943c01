using System.Net;
using System.Text.Json;
using AdaMerging.Tests.Support;
using Microsoft.EntityFrameworkCore;

namespace AdaMerging.Tests.Service;

public sealed class HostingTests(ServiceFixture service) : IClassFixture<ServiceFixture>
{
    [Theory]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    public async Task Health_endpoints_answer_healthy(string path)
    {
        using var response = await service.Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_OpenAPI_document_describes_every_endpoint_and_the_UI_is_served_at_swagger()
    {
        var document = JsonDocument.Parse(await service.Client.GetStringAsync("/swagger/v1/swagger.json")).RootElement;
        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/checkpoints", paths);
        Assert.Contains("/checkpoints/{id}", paths);
        Assert.Contains("/merges", paths);
        Assert.Contains("/merges/{id}", paths);
        Assert.Contains("/merges/{id}/model", paths);
        using var ui = await service.Client.GetAsync("/swagger/index.html");
        Assert.Equal(HttpStatusCode.OK, ui.StatusCode);
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
