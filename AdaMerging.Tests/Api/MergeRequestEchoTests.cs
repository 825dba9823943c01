using System.Net.Http.Json;
using System.Text.Json;
using AdaMerging.Tests.Support;

namespace AdaMerging.Tests.Api;

/// <summary>GET /merges/{id} (and the 202) echo the submitted request with the method's defaults filled in; every resource takes user metadata (issue 15).</summary>
public sealed class MergeRequestEchoTests(ServiceFixture service) : TempDirectoryTests, IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task A_merge_echoes_its_request_with_every_option_s_default_filled_in()
    {
        var inputs = await TinyService.UploadAsync(service, Dir, tasks: 2, seed: 43);
        using var submitted = await service.Client.PostAsJsonAsync("/merges", new
        {
            method = "adamerging", @base = inputs.Base, tasks = inputs.TaskJson(), options = new { steps = 2, batchSize = 4 },
        });
        var echoed = (await submitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("request");
        Assert.Equal(inputs.Base, echoed.GetProperty("base").GetString());
        var options = echoed.GetProperty("options");
        Assert.Equal((2, 4), (options.GetProperty("steps").GetInt32(), options.GetProperty("batchSize").GetInt32()));
        Assert.Equal(0.001, options.GetProperty("learningRate").GetDouble());
        Assert.Equal("layer", options.GetProperty("granularity").GetString());
        Assert.Equal(0.3, options.GetProperty("initialLambda").GetDouble());
        var polled = await service.WaitForMergeAsync(submitted.Headers.Location!.ToString(), TimeSpan.FromMinutes(2));
        Assert.Equal(options.ToString(), polled.GetProperty("request").GetProperty("options").ToString());
    }

    [Fact]
    public async Task Every_resource_takes_bounded_metadata_on_submit_or_by_PATCH_and_shows_it()
    {
        var inputs = await TinyService.UploadAsync(service, Dir, tasks: 1, seed: 44);
        using var submitted = await service.Client.PostAsJsonAsync("/merges", new
        {
            method = "task_arithmetic", @base = inputs.Base, tasks = inputs.TaskJson(), metadata = new Dictionary<string, string> { ["run"] = "nightly-7" },
        });
        var merge = await submitted.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("nightly-7", merge.GetProperty("metadata").GetProperty("run").GetString());

        foreach (var path in new[] { $"/checkpoints/{inputs.Base}", $"/heads/{inputs.Head}", $"/datasets/{inputs.Tasks[0].Data}", $"/merges/{merge.GetProperty("id").GetString()}" })
        {
            using var patched = await service.Client.PatchAsJsonAsync(path, new { metadata = new Dictionary<string, string> { ["team"] = "vision", ["ticket"] = "ML-42" } });
            Assert.True(patched.IsSuccessStatusCode, $"{path}: {await patched.Content.ReadAsStringAsync()}");
            var shown = (await service.Client.GetFromJsonAsync<JsonElement>(path)).GetProperty("metadata");
            Assert.Equal(("vision", "ML-42"), (shown.GetProperty("team").GetString(), shown.GetProperty("ticket").GetString()));
        }

        var tooMany = Enumerable.Range(0, 17).ToDictionary(i => $"k{i}", i => "v");
        using var refused = await service.Client.PatchAsJsonAsync($"/checkpoints/{inputs.Base}", new { metadata = tooMany });
        Assert.Contains("17 pairs, over the limit of 16", Problems.Text(await Problems.ReadAsync(refused, System.Net.HttpStatusCode.BadRequest)), StringComparison.Ordinal);
        using var longValue = await service.Client.PostAsJsonAsync("/merges", new
        {
            method = "task_arithmetic", @base = inputs.Base, tasks = inputs.TaskJson(), metadata = new Dictionary<string, string> { ["note"] = new string('x', 513) },
        });
        Assert.Contains("metadata['note']: 513 characters", Problems.Text(await Problems.ReadAsync(longValue, System.Net.HttpStatusCode.BadRequest)), StringComparison.Ordinal);
        await Problems.ReadAsync(await service.Client.PatchAsJsonAsync($"/heads/{Guid.NewGuid()}", new { metadata = new Dictionary<string, string>() }),
            System.Net.HttpStatusCode.NotFound);
    }
}
