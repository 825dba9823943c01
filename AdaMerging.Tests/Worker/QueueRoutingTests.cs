using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AdaMerging.Tests.Support;

namespace AdaMerging.Tests.Worker;

/// <summary>A worker with two merge slots on named CPU devices, a CPU queue slot, and its own host id.</summary>
public sealed class TwoSlotFixture : ServiceFixture
{
    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
    [
        new("AdaMerging:Devices:0", "cpu:0"),
        new("AdaMerging:Devices:1", "cpu:1"),
        new("AdaMerging:HostId", "node-a"),
    ];
}

/// <summary>Merges go to the queue their method needs and run on their slot's own device (issue 16).</summary>
public sealed class QueueRoutingTests(TwoSlotFixture service) : TempDirectoryTests, IClassFixture<TwoSlotFixture>
{
    private async Task<string> SubmitAsync(object body)
    {
        using var response = await service.Client.PostAsJsonAsync("/merges", body);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        return response.Headers.Location!.ToString();
    }

    private async Task<JsonElement> WaitRunningAsync(string location)
    {
        JsonElement merge = default;
        await Poll.UntilAsync(async () =>
        {
            merge = await service.Client.GetFromJsonAsync<JsonElement>(location);
            return merge.GetProperty("status").GetString() == "running" && merge.GetProperty("progress").GetProperty("step").GetInt32() > 0;
        }, TimeSpan.FromSeconds(60), () => $"{location} did not start: {merge}");
        return merge;
    }

    [Fact]
    public async Task Two_AdaMerging_runs_hold_distinct_devices_and_a_data_free_merge_finishes_while_they_run()
    {
        var inputs = await TinyService.UploadAsync(service, Dir, tasks: 2, seed: 131);
        object Long() => new { method = "adamerging", @base = inputs.Base, tasks = inputs.TaskJson(), options = new { steps = 100_000, batchSize = 4 } };
        var first = await SubmitAsync(Long());
        var second = await SubmitAsync(Long());
        var running = new[] { await WaitRunningAsync(first), await WaitRunningAsync(second) };
        Assert.Equal(["cpu:0", "cpu:1"], running.Select(m => m.GetProperty("device").GetString()).Order(StringComparer.Ordinal));
        Assert.All(running, m => Assert.Equal("node-a", m.GetProperty("host").GetString()));

        // Both merge slots are busy: a data-free merge goes to the CPU queue and does not wait for them.
        var quick = await SubmitAsync(new { method = "task_arithmetic", @base = inputs.Base, tasks = inputs.TaskJson() });
        var done = await service.WaitForMergeAsync(quick, TimeSpan.FromSeconds(60));
        Assert.Equal("succeeded", done.GetProperty("status").GetString());
        Assert.Equal("cpu", done.GetProperty("device").GetString());
        foreach (var location in new[] { first, second })
            Assert.Equal("running", (await service.Client.GetFromJsonAsync<JsonElement>(location)).GetProperty("status").GetString());
        Assert.True(done.GetProperty("finishedAt").GetDateTimeOffset() < DateTimeOffset.UtcNow);
        var events = await service.Client.GetFromJsonAsync<JsonElement>(first + "/events");
        Assert.Contains(events.GetProperty("data").EnumerateArray(), e => e.GetProperty("message").GetString()!.StartsWith("started on node-a, cpu:", StringComparison.Ordinal));

        foreach (var location in new[] { first, second })
            using (var cancelled = await service.Client.PostAsync(location + "/cancel", null))
                Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
    }
}
