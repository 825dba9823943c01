using System.Net.Http.Json;
using System.Text.Json;
using AdaMerging.Tests.Support;
using Microsoft.EntityFrameworkCore;

namespace AdaMerging.Tests.Worker;

/// <summary>The API in process, no limit of its own; the workers are real processes the tests start with their own devices.</summary>
public sealed class LargerDeviceFixture : ServiceFixture
{
    protected override bool InProcessWorker => false;
}

/// <summary>
/// A merge over the memory of the device that took it goes to a queue whose live worker has a larger device, before
/// anything runs, and only fails when no live worker has one (issue 33; docs/deployment.md, "Devices").
/// </summary>
[Collection(HeavyWorkerProcesses.Name)]
public sealed class LargerDeviceTests(LargerDeviceFixture service) : TempDirectoryTests, IClassFixture<LargerDeviceFixture>
{
    private const string SmallDeviceBytes = "4096";   // far below any merge's estimate: this worker's device is "too small"

    private ServiceProcess StartWorker(string host, params (string Key, string Value)[] settings)
    {
        var all = new Dictionary<string, string?>(service.Settings) { ["AdaMerging:HostId"] = host };
        foreach (var (key, value) in settings) all[key] = value;
        return ServiceProcess.Worker(all, Dir.File($"{host}.log"));
    }

    private async Task WaitPublishedAsync(string host, bool present)
    {
        await Poll.UntilAsync(async () =>
        {
            await using var db = service.NewDbContext();
            return await db.WorkerDevices.AnyAsync(d => d.Server.StartsWith(host + ":")) == present;
        }, TimeSpan.FromSeconds(90), () => $"{host}'s devices were {(present ? "not published" : "not withdrawn")}: {File.ReadAllText(Dir.File($"{host}.log"))}");
    }

    private async Task<JsonElement> MergeAsync(TinyService.Inputs inputs)
    {
        using var response = await service.Client.PostAsJsonAsync("/merges", new { method = "adamerging", @base = inputs.Base, tasks = inputs.TaskJson(), options = new { steps = 2, batchSize = 4 } });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return await service.WaitForMergeAsync(response.Headers.Location!.ToString(), TimeSpan.FromSeconds(120));
    }

    [Fact]
    public async Task A_merge_over_its_devices_memory_runs_on_a_live_larger_device_and_fails_only_when_none_is_left()
    {
        var inputs = await TinyService.UploadAsync(service, Dir, tasks: 2, seed: 233);
        using var small = StartWorker("small", ("AdaMerging:MergeMemoryLimitBytes", SmallDeviceBytes), ("AdaMerging:CpuWorkerCount", "0"));
        using var large = StartWorker("large", ("AdaMerging:Queue", "large"), ("AdaMerging:CpuWorkerCount", "0"));
        await WaitPublishedAsync("small", present: true);
        await WaitPublishedAsync("large", present: true);

        var moved = await MergeAsync(inputs);
        Assert.Equal("succeeded", moved.GetProperty("status").GetString());
        Assert.Equal("large", moved.GetProperty("host").GetString());
        Assert.Equal(1, moved.GetProperty("attempts").GetInt32());   // the re-queue is not an attempt: nothing ran on the small device
        var events = (await service.Client.GetFromJsonAsync<JsonElement>(moved.GetProperty("links").GetProperty("events").GetString()))
            .GetProperty("data").EnumerateArray().Select(e => (Type: e.GetProperty("type").GetString(), Message: e.GetProperty("message").GetString()!)).ToList();
        var requeued = Assert.Single(events, e => e.Message.StartsWith("re-queued on 'large'", StringComparison.Ordinal));
        Assert.Equal("queued", requeued.Type);
        Assert.Contains("over the 0.00 GB of cpu on small", requeued.Message);
        Assert.Equal(["queued", "started", "queued", "started"], events.Select(e => e.Type).Where(t => t is "queued" or "started"));

        // The large worker stops (SIGTERM): its devices are withdrawn, and the next merge fails as it always did.
        Assert.True(large.Terminate(TimeSpan.FromSeconds(60)), "the large worker did not stop on SIGTERM");
        await WaitPublishedAsync("large", present: false);
        var refused = await MergeAsync(inputs);
        Assert.Equal("failed", refused.GetProperty("status").GetString());
        Assert.Contains("over the limit of 0.00 GB (MergeMemoryLimitBytes)", refused.GetProperty("error").GetString());
        Assert.Equal("small", refused.GetProperty("host").GetString());
    }
}
