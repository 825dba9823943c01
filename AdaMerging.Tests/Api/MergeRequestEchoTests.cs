using System.Net.Http.Json;
using System.Text.Json;
using AdaMerging.Tests.Support;

namespace AdaMerging.Tests.Api;

/// <summary>GET /merges/{id} (and the 202) echo the submitted request with the method's defaults filled in (issue 15).</summary>
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
}
