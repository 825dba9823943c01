using System.Text.Json;
using AdaMerging.Tests.Support;

namespace AdaMerging.Tests.Api;

/// <summary>
/// docs/openapi.json read as generators read it (issue 33): Spectral with the committed ruleset, and NSwag's C# client
/// generated from it and compiled (Kiota's is compiled with the tests, AdaMerging.Client).
/// </summary>
public sealed class OpenApiDocumentTests : TempDirectoryTests
{
    private static readonly string Document = Path.Combine(Repository.Root(), "docs", "openapi.json");

    [Fact]
    public async Task Spectral_finds_nothing_with_the_committed_ruleset()
    {
        var lint = await ToolRuns.RunAsync("npx", ["--yes", "@stoplight/spectral-cli@6.16.0", "lint", Document, "--ruleset",
            Path.Combine(Repository.Root(), ".spectral.yaml"), "--fail-severity", "warn"], Repository.Root(), TimeSpan.FromMinutes(5));
        Assert.True(lint.ExitCode == 0, lint.Output);
        Assert.Contains("No results with a severity of 'warn' or higher found", lint.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_operation_has_a_unique_id_and_every_download_and_stream_a_body_schema()
    {
        var paths = JsonDocument.Parse(File.ReadAllText(Document)).RootElement.GetProperty("paths");
        var operations = paths.EnumerateObject().SelectMany(p => p.Value.EnumerateObject().Select(o => (Route: $"{o.Name.ToUpperInvariant()} {p.Name}", Operation: o.Value))).ToList();
        var ids = operations.Select(o => o.Operation.TryGetProperty("operationId", out var id) ? id.GetString() : null).ToList();
        Assert.All(operations.Zip(ids), o => Assert.False(string.IsNullOrEmpty(o.Second), $"{o.First.Route} has no operationId"));
        Assert.Equal(ids.Count, ids.Distinct().Count());
        string BodyType(string route, string status = "200") => string.Join(",",
            operations.Single(o => o.Route == route).Operation.GetProperty("responses").GetProperty(status).GetProperty("content").EnumerateObject()
                .Select(c => $"{c.Name}:{c.Value.GetProperty("schema").GetProperty("type").GetString()}"));
        Assert.Equal("application/octet-stream:string", BodyType("GET /merges/{id}/model"));
        Assert.Equal("application/octet-stream:string", BodyType("GET /merges/{id}/model", "206"));
        Assert.Equal("application/zip:string", BodyType("GET /merges/{id}/archive"));
        Assert.Equal("text/event-stream:string", BodyType("GET /merges/{id}/events/stream"));
        Assert.Equal("text/csv:string", BodyType("GET /experiments/{id}/comparison.csv"));
    }

    [Fact]
    public async Task NSwag_generates_a_CSharp_client_that_compiles_with_a_method_named_after_each_operation()
    {
        var client = Dir.File("AdaMergingClient.cs");
        var generate = await ToolRuns.RunAsync("dotnet", ["nswag", "openapi2csclient", $"/input:{Document}", $"/output:{client}", "/namespace:AdaMerging.NSwag",
            "/className:AdaMergingClient", "/jsonLibrary:SystemTextJson", "/operationGenerationMode:SingleClientFromOperationId"], Repository.Root(), TimeSpan.FromMinutes(3));
        Assert.True(generate.ExitCode == 0, generate.Output);
        var code = File.ReadAllText(client);
        Assert.Contains("Task<MergeResponse> SubmitMergeAsync(string idempotency_Key, MergeRequest body", code, StringComparison.Ordinal);
        Assert.Contains("Task<MergePage> ListMergesAsync(", code, StringComparison.Ordinal);
        Assert.Contains("Task<FileResponse> DownloadMergeModelAsync(", code, StringComparison.Ordinal);
        Assert.Contains("Task<string> StreamMergeEventsAsync(", code, StringComparison.Ordinal);

        // Its own project, outside the repository (none of its build settings apply): only the framework.
        File.WriteAllText(Dir.File("NSwagClient.csproj"), """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup><TargetFramework>net10.0</TargetFramework><Nullable>disable</Nullable><TreatWarningsAsErrors>false</TreatWarningsAsErrors></PropertyGroup>
            </Project>
            """);
        var build = await ToolRuns.RunAsync("dotnet", ["build", "-nologo", "-v", "q", "-c", "Release"], Dir.Path, TimeSpan.FromMinutes(5));
        Assert.True(build.ExitCode == 0, build.Output);
    }
}
