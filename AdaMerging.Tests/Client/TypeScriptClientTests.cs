using System.Text.Json;
using AdaMerging.Tests.Support;

namespace AdaMerging.Tests.Client;

/// <summary>
/// The API from TypeScript (issue 33): clients/typescript's types generated from docs/openapi.json by
/// openapi-typescript, its script compiled by tsc in strict mode, and run by Node with openapi-fetch against the real
/// service: a merge uploaded, submitted, followed, listed, downloaded and checked, and a problem read by its code.
/// </summary>
public sealed class TypeScriptClientTests(ServiceFixture service) : TempDirectoryTests, IClassFixture<ServiceFixture>
{
    private static readonly TimeSpan Npm = TimeSpan.FromMinutes(5);

    private Task<string> RunAsync(string program, params string[] args) => ToolRuns.SucceedAsync(program, args, Dir.Path, Npm);

    [Fact]
    public async Task Types_generated_by_openapi_typescript_compile_strictly_and_drive_a_whole_merge_through_openapi_fetch()
    {
        var project = Path.Combine(Repository.Root(), "clients", "typescript");
        foreach (var name in new[] { "package.json", "tsconfig.json", "merge.ts" }) File.Copy(Path.Combine(project, name), Dir.File(name));
        await RunAsync("npm", "install", "--no-audit", "--no-fund", "--loglevel=error");
        await RunAsync("npx", "openapi-typescript", Path.Combine(Repository.Root(), "docs", "openapi.json"), "-o", "schema.d.ts");
        await RunAsync("npx", "tsc", "-p", ".");

        var secret = await service.CreateKeyAsync("typescript");
        var (api, client) = await ApiProcess.StartAsync(service, ApiProcess.FreePort(), secret, Dir.File("api.log"));
        using var _ = api;
        using var __ = client;
        var tasks = TinyService.TaskFiles(Dir, tasks: 2, seed: 231).Select(t => t.Model).ToArray();
        var output = await RunAsync("node", ["dist/merge.js", client.BaseAddress!.ToString().TrimEnd('/'), secret, ClipTiny.File("config.json"), ClipTiny.File("model.safetensors"), .. tasks]);

        var result = JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement;
        Assert.Equal("succeeded", result.GetProperty("status").GetString());
        Assert.Equal(result.GetProperty("merge").GetString(), result.GetProperty("listedFirst").GetString()); // the newest, by cursor
        Assert.Equal("succeeded", result.GetProperty("lastEvent").GetString());
        Assert.True(result.GetProperty("modelMatches").GetBoolean(), "the downloaded model's SHA-256 is not the merge's");
        Assert.Equal("not_found", result.GetProperty("problemCode").GetString());
    }
}
