using System.Net.Http.Json;
using System.Text.Json;
using AdaMerging.Tests.Support;
using Xunit.Abstractions;

namespace AdaMerging.Tests.Worker;

/// <summary>The API in process; workers as real processes of three hosts on one database and one DataRoot.</summary>
public sealed class SharedStoreFixture : ServiceFixture
{
    protected override bool InProcessWorker => false;

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
    [
        new("AdaMerging:SnapshotSeconds", "0"),
        new("AdaMerging:QueueInvisibilitySeconds", "3"),
        new("AdaMerging:MaxActiveMergesPerOwner", "1000"),
    ];
}

/// <summary>
/// Three worker processes with their own host ids share one PostgreSQL and one DataRoot; 200 mixed merges run while two
/// workers are SIGKILLed in the middle of AdaMerging jobs and come back (issue 16): every merge succeeds exactly once,
/// equal requests give bit-identical models whether resumed or not, and no temp file is left when all stop.
/// </summary>
[Collection(HeavyWorkerProcesses.Name)]
public sealed class SharedStoreTests(SharedStoreFixture service, ITestOutputHelper output) : TempDirectoryTests, IClassFixture<SharedStoreFixture>
{
    private const int DataFree = 180, Learning = 20;

    private ServiceProcess StartWorker(string host) =>
        ServiceProcess.Worker(service.Settings.Append(new("AdaMerging:HostId", host)).ToDictionary(kv => kv.Key, kv => kv.Value), Dir.File($"{host}.log"));

    private async Task<List<JsonElement>> MergesAsync()
    {
        var all = new List<JsonElement>();
        for (var after = ""; ;)
        {
            var page = await service.Client.GetFromJsonAsync<JsonElement>($"/merges?limit=500{after}");
            all.AddRange(page.GetProperty("data").EnumerateArray());
            if (!page.GetProperty("hasMore").GetBoolean()) return all;
            after = $"&after={page.GetProperty("lastId").GetString()}";
        }
    }

    [Fact]
    public async Task Two_hundred_merges_on_three_hosts_with_two_killed_each_succeed_once_bit_identical_and_leave_no_temp_files()
    {
        var inputs = await TinyService.UploadAsync(service, Dir, tasks: 2, seed: 141);
        var hosts = new[] { "host-1", "host-2", "host-3" };
        var workers = hosts.ToDictionary(h => h, StartWorker);
        try
        {
            var methods = Enumerable.Range(0, DataFree).Select(i => i % 2 == 0 ? "task_arithmetic" : "ties")
                .Concat(Enumerable.Repeat("adamerging", Learning)).OrderBy(_ => Random.Shared.Next()).ToList();
            foreach (var method in methods)
            {
                object options = method == "adamerging" ? new { steps = 8, batchSize = 4, seed = 3 } : new { };
                using var response = await service.Client.PostAsJsonAsync("/merges", new { method, @base = inputs.Base, tasks = inputs.TaskJson(), options });
                Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            }

            // Kill the hosts of two running AdaMerging jobs, then bring them back as a supervisor would.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var killed = new List<string>();
            await Poll.UntilAsync(async () =>
            {
                var running = (await MergesAsync()).Where(m => m.GetProperty("status").GetString() == "running" && m.GetProperty("method").GetString() == "adamerging"
                    && m.GetProperty("progress").GetProperty("step").GetInt32() > 0).Select(m => m.GetProperty("host").GetString()!).Except(killed).FirstOrDefault();
                if (running is not null)
                {
                    workers[running].Kill();
                    workers[running].Dispose();
                    killed.Add(running);
                    workers[running] = StartWorker(running);
                }
                return killed.Count == 2;
            }, TimeSpan.FromMinutes(3), () => $"only {killed.Count} of 2 hosts were seen running an AdaMerging step");
            Assert.Equal(2, killed.Count);

            List<JsonElement> merges = [];
            await Poll.UntilAsync(async () =>
            {
                merges = await MergesAsync();
                return !merges.Any(m => m.GetProperty("status").GetString() is "queued" or "running");
            }, TimeSpan.FromMinutes(8) - clock.Elapsed, () => "the 200 merges did not finish in 8 minutes", everyMilliseconds: 500);

            Assert.Equal(DataFree + Learning, merges.Count);
            Assert.All(merges, m => Assert.True(m.GetProperty("status").GetString() == "succeeded", m.ToString()));
            foreach (var group in merges.GroupBy(m => m.GetProperty("method").GetString()))
            {
                var models = group.Select(m => m.GetProperty("files").EnumerateArray().Single(f => f.GetProperty("fileName").GetString() == "model.safetensors")
                    .GetProperty("sha256").GetString()).Distinct().ToList();
                Assert.True(models.Count == 1, $"{group.Key}: {models.Count} different models from one request");
            }
            var retried = 0;
            foreach (var m in merges)
            {
                var events = (await service.Client.GetFromJsonAsync<JsonElement>($"/merges/{m.GetProperty("id").GetString()}/events?limit=500"))
                    .GetProperty("data").EnumerateArray().Select(e => e.GetProperty("type").GetString()).ToList();
                Assert.Equal(1, events.Count(t => t == "succeeded"));
                if (events.Contains("retried")) retried++;
            }
            Assert.True(retried >= 2, $"{retried} merges were retried after the kills");
            Assert.Equal(hosts, merges.Select(m => m.GetProperty("host").GetString()).Distinct().Order(StringComparer.Ordinal));

            var waits = merges.Select(m => (m.GetProperty("startedAt").GetDateTimeOffset() - m.GetProperty("createdAt").GetDateTimeOffset()).TotalSeconds).Order().ToList();
            output.WriteLine($"200 merges on 3 hosts in {clock.Elapsed.TotalSeconds:F0} s, {retried} retried; queue wait p50 {waits[waits.Count / 2]:F1} s, "
                + $"p95 {waits[waits.Count * 95 / 100]:F1} s, max {waits[^1]:F1} s");
        }
        finally
        {
            foreach (var worker in workers.Values)
            {
                if (!worker.HasExited) worker.Terminate(TimeSpan.FromSeconds(30));
                worker.Dispose();
            }
        }
        // Everything each host wrote to temp was published or removed: nothing left by live or dead processes.
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(service.DataRoot, "blobs", "tmp")));
    }
}
