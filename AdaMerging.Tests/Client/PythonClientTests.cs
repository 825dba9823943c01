using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using AdaMerging.Tests.Support;

namespace AdaMerging.Tests.Client;

/// <summary>
/// The API from Python (issue 33): clients/python installed with pip into a venv over Debian's python3-httpx and
/// python3-yaml, its generated code checked against docs/openapi.json, the CLI running a whole AdaMerging merge from a
/// YAML file against the real API process (and a second run sending nothing already stored), and the library's tus
/// resume, cursor paging, SHA-256 lookups, problems and resumed downloads.
/// </summary>
public sealed class PythonClientTests(ServiceFixture service) : TempDirectoryTests, IClassFixture<ServiceFixture>
{
    private const string Python = "/usr/bin/python3";
    private static readonly TimeSpan Tool = TimeSpan.FromMinutes(5);

    private Task<string> RunAsync(string program, params string[] args) => ToolRuns.SucceedAsync(program, args, Dir.Path, Tool);

    private async Task<string> InstallAsync()
    {
        var source = Path.Combine(Repository.Root(), "clients", "python");
        var copy = Dir.File("client");
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories)
                     .Where(f => !f.Contains("__pycache__") && !f.Contains(".egg-info") && !f.Contains("/build/")))
        {
            var target = Path.Combine(copy, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        await RunAsync(Python, "-m", "venv", "--system-site-packages", Dir.File("venv"));
        // --no-index: every dependency must come from Debian's packages, as the README says.
        await RunAsync(Dir.File("venv/bin/pip"), "install", "--no-build-isolation", "--no-index", "--quiet", copy);
        return Dir.File("venv/bin/adamerging");
    }

    [Fact]
    public async Task Generated_client_code_matches_the_committed_OpenAPI_document()
    {
        var generator = Path.Combine(Repository.Root(), "clients", "python", "generate.py");
        var output = await RunAsync(Python, generator, "--check", Path.Combine(Repository.Root(), "docs", "openapi.json"));
        Assert.Contains("generated files match", output);
    }

    [Fact]
    public async Task The_CLI_merges_from_a_YAML_file_uploading_only_what_is_not_stored_and_the_library_resumes_uploads_and_downloads()
    {
        var cli = await InstallAsync();
        var secret = await service.CreateKeyAsync("python");
        var (api, client) = await ApiProcess.StartAsync(service, ApiProcess.FreePort(), secret, Dir.File("api.log"));
        using var _ = api;
        using var __ = client;
        var url = client.BaseAddress!.ToString().TrimEnd('/');
        WriteInputs();

        var first = await MergeAsync(cli, url, secret);
        Assert.Equal("succeeded", first.GetProperty("status").GetString());
        Assert.Equal(6, first.GetProperty("uploaded").GetArrayLength());   // base, 2 models, the head, 2 datasets
        Assert.Equal(3, first.GetProperty("reused").GetArrayLength());     // the second task's head, the evaluation data
        var merge = await client.GetFromJsonAsync<JsonElement>($"/merges/{first.GetProperty("merge").GetString()}");
        foreach (var file in merge.GetProperty("files").EnumerateArray())
        {
            var local = Dir.File(Path.Combine("merged", file.GetProperty("fileName").GetString()!));
            Assert.Equal(file.GetProperty("sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(local))));
        }
        Assert.Equal(2, first.GetProperty("accuracy").EnumerateObject().Count());

        var again = await MergeAsync(cli, url, secret);
        Assert.Equal("succeeded", again.GetProperty("status").GetString());
        Assert.Equal(0, again.GetProperty("uploaded").GetArrayLength());
        Assert.Equal(9, again.GetProperty("reused").GetArrayLength());

        var seen = LastJson(await RunAsync(Dir.File("venv/bin/python"), Dir.File("client/tests/check_client.py"), url, secret,
            Dir.File("task0/model.safetensors"), ClipTiny.File("config.json"), Dir.Path, first.GetProperty("merge").GetString()!));
        Assert.Equal(16 << 10, seen.GetProperty("offsetAfterCut").GetInt64());
        Assert.Equal(32 << 10, seen.GetProperty("firstResumedOffset").GetInt64());   // resumed from the server's offset, not from 0
        Assert.True(seen.GetProperty("uploadComplete").GetBoolean());
        Assert.Equal("sealed", seen.GetProperty("sealedStatus").GetString());
        Assert.True(seen.GetProperty("storedSha256Matches").GetBoolean());
        Assert.Equal(4, seen.GetProperty("pagedCheckpoints").GetInt32());   // base, two tasks (stored once across both runs), the resumed one
        Assert.True(seen.GetProperty("pagedDistinct").GetBoolean());
        Assert.True(seen.GetProperty("foundBySha256").GetBoolean());
        Assert.True(seen.GetProperty("mergeIsTyped").GetBoolean());
        Assert.Equal("not_found", seen.GetProperty("missingCode").GetString());
        Assert.Equal(404, seen.GetProperty("missingStatus").GetInt32());
        Assert.Contains("/tasks", seen.GetProperty("invalidPointers").EnumerateArray().Select(p => p.GetString()));
        Assert.Contains("/options/lambda", seen.GetProperty("invalidPointers").EnumerateArray().Select(p => p.GetString()));
        Assert.True(seen.GetProperty("downloadResumedPastCut").GetBoolean());
        Assert.True(seen.GetProperty("downloadMatches").GetBoolean());
        Assert.True(seen.GetProperty("noPartFileLeft").GetBoolean());
    }

    [Fact]
    public async Task A_bad_configuration_names_every_problem_and_exits_2_before_sending_anything()
    {
        var cli = await InstallAsync();
        await File.WriteAllTextAsync(Dir.File("bad.yaml"), "base: ./nowhere\nmethod: Ada Merging\nmodels:\n  - model: ./missing\n    colour: red\n  - {name: x}\n");
        var run = await ToolRuns.RunAsync(cli, ["--url", "http://127.0.0.1:9", "merge", Dir.File("bad.yaml")], Dir.Path, Tool);
        Assert.Equal(2, run.ExitCode);
        foreach (var expected in new[] { "base:", "does not exist", "method:", "models[0].model:", "models[0].colour: unknown key", "models[1].model: required" })
            Assert.Contains(expected, run.Output);
    }

    private async Task<JsonElement> MergeAsync(string cli, string url, string secret)
    {
        var output = await RunAsync(cli, "--url", url, "--key", secret, "--json", "merge", Dir.File("merge.yaml"));
        Assert.Contains("optimise [", output);   // the progress bar followed the optimisation
        return LastJson(output);
    }

    /// <summary>The JSON summary a run prints last on stdout (the output holds stderr's progress lines too).</summary>
    private static JsonElement LastJson(string output) =>
        JsonDocument.Parse(output.Split('\n').Last(line => line.StartsWith('{'))).RootElement;

    /// <summary>A base folder as published (README.md included), two fine-tuned folders, a head, and per task a dataset.</summary>
    private void WriteInputs()
    {
        Directory.CreateDirectory(Dir.File("base"));
        File.Copy(ClipTiny.File("config.json"), Dir.File("base/config.json"));
        File.Copy(ClipTiny.File("model.safetensors"), Dir.File("base/model.safetensors"));
        File.WriteAllText(Dir.File("base/README.md"), "# tiny CLIP\n");
        File.Copy(ClipTiny.File("head.safetensors"), Dir.File("head.safetensors"));
        var yaml = new List<string> { "base: base", "merge_method: adamerging", "parameters: {steps: 2, batchSize: 4}", "output: merged", "models:" };
        foreach (var (k, (model, data)) in TinyService.TaskFiles(Dir, tasks: 2, seed: 232).Index())
        {
            Directory.CreateDirectory(Dir.File($"task{k}"));
            File.Move(model, Dir.File($"task{k}/model.safetensors"));
            File.Copy(ClipTiny.File("config.json"), Dir.File($"task{k}/config.json"));
            yaml.AddRange([$"  - name: task{k}", $"    model: task{k}", "    head: head.safetensors", $"    data: {Path.GetFileName(data)}",
                $"    evaluation: {Path.GetFileName(data)}"]);
        }
        File.WriteAllLines(Dir.File("merge.yaml"), yaml);
    }
}
