using System.Net.Http.Json;
using System.Text.Json;
using AdaMerging.Domain.Merging;
using AdaMerging.Tests.Support;
using AdaMerging.Domain.Methods;

namespace AdaMerging.Tests.Worker;

/// <summary>The API in process; workers as real processes, saving AdaMerging's state every step and losing a dead worker's job after 3 s.</summary>
public sealed class WorkerProcessFixture : ServiceFixture
{
    protected override bool InProcessWorker => false;

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
    [
        new("AdaMerging:SnapshotSeconds", "0"),
        new("AdaMerging:QueueInvisibilitySeconds", "3"),
    ];
}

/// <summary>
/// Workers killed with SIGKILL at random points of AdaMerging, and stopped with SIGTERM: every job is picked up
/// again by the next worker, resumes from its saved state and ends bit-identical to an uninterrupted run.
/// </summary>
[Collection(HeavyWorkerProcesses.Name)]
public sealed class WorkerCrashTests(WorkerProcessFixture service) : IClassFixture<WorkerProcessFixture>, IDisposable
{
    private const int Steps = 300, Runs = 20, KillsPerRun = 1;
    private readonly TempDirectory _files = new();

    public void Dispose() => _files.Dispose();

    private static object Request(TinyService.Inputs inputs) => new
    {
        method = "adamerging", @base = inputs.Base, tasks = inputs.TaskJson(),
        options = new { steps = Steps, batchSize = 4, learningRate = 0.01, seed = 5 },
    };

    private string StatePath(string id) => Path.Combine(service.DataRoot, "state", Guid.Parse(id).ToString("N") + ".json");

    private int SavedStep(string id)
    {
        try
        {
            return File.Exists(StatePath(id)) ? JsonSerializer.Deserialize<AdaMergingState>(File.ReadAllText(StatePath(id)))!.Step : -1;
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            return -1; // replaced between the check and the read
        }
    }

    private async Task<string> SubmitAsync(TinyService.Inputs inputs)
    {
        using var response = await service.Client.PostAsJsonAsync("/merges", Request(inputs));
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode, body.ToString());
        return body.GetProperty("id").GetString()!;
    }

    /// <summary>What must match bit for bit: the learned coefficients, the objective per step, the merged model's bytes.</summary>
    private static (string Coefficients, string Objective, string Model) Outcome(JsonElement merge, JsonElement report) => (
        report.GetProperty("coefficients").GetRawText(),
        report.GetProperty("objectivePerStep").GetRawText(),
        merge.GetProperty("files").EnumerateArray().Single(f => f.GetProperty("fileName").GetString() == "model.safetensors").GetProperty("sha256").GetString()!);

    private async Task<(string, string, string)> FinishedOutcomeAsync(string id)
    {
        var merge = await service.WaitForMergeAsync($"/merges/{id}", TimeSpan.FromMinutes(2));
        Assert.Equal("succeeded", merge.GetProperty("status").GetString());
        var report = await service.Client.GetFromJsonAsync<JsonElement>($"/merges/{id}/report");
        Assert.False(File.Exists(StatePath(id)), "the saved state outlived the merge");
        return Outcome(merge, report);
    }

    private Task<TimeSpan> WaitForStepAsync(string id, int atLeast, TimeSpan timeout) =>
        Poll.UntilAsync(() => SavedStep(id) >= atLeast, timeout, $"merge {id} did not reach step {atLeast}", everyMilliseconds: 10);

    [Fact]
    public async Task Twenty_runs_SIGKILLed_at_random_steps_lose_nothing_and_end_bit_identical()
    {
        var inputs = await TinyService.UploadAsync(service, _files, tasks: 2, seed: 41);
        string log = _files.File("workers.log");
        var uninterrupted = await SubmitAsync(inputs);
        (string, string, string) expected;
        using (ServiceProcess.Worker(service.Settings, log))
            expected = await FinishedOutcomeAsync(uninterrupted);

        var random = new Random(2026);
        var ids = new List<string>();
        var resumes = new List<string>();
        int kills = 0;
        for (int run = 0; run < Runs; run++)
        {
            var id = await SubmitAsync(inputs);
            ids.Add(id);
            int resumedFrom = 0;
            for (int k = 0; k < KillsPerRun; k++)
            {
                using var worker = ServiceProcess.Worker(service.Settings, log);
                // Kill somewhere after the job resumed and before it could finish: at a random later step.
                // (never in the last fifth: the kill must land before the run can finish, whatever the machine's speed)
                int target = random.Next(resumedFrom + 1, resumedFrom + (Steps * 4 / 5 - resumedFrom) / (KillsPerRun - k) + 1);
                await WaitForStepAsync(id, target, TimeSpan.FromSeconds(60));
                worker.Kill();
                kills++;
                int saved = SavedStep(id);
                Assert.InRange(saved, target, Steps - 1);
                resumedFrom = saved;
                resumes.Add($"Merge {id} resumes AdaMerging from its saved state at step {saved}");
            }
            using (ServiceProcess.Worker(service.Settings, log))
                Assert.Equal(expected, await FinishedOutcomeAsync(id));
        }
        Assert.Equal(Runs * KillsPerRun, kills);
        var logged = File.ReadAllText(log);
        Assert.All(resumes, line => Assert.Contains(line, logged, StringComparison.Ordinal)); // each attempt went on from where the last stopped

        // Nothing lost, nothing duplicated: each merge is listed once, succeeded, with one model; every kill cost one attempt.
        var list = await service.Client.GetFromJsonAsync<JsonElement>("/merges?limit=500");
        var listed = list.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()!).ToList();
        foreach (var id in ids.Append(uninterrupted))
        {
            Assert.Single(listed, id);
            var merge = await service.Client.GetFromJsonAsync<JsonElement>($"/merges/{id}");
            Assert.Equal("succeeded", merge.GetProperty("status").GetString());
            Assert.Single(merge.GetProperty("files").EnumerateArray(), f => f.GetProperty("fileName").GetString() == "model.safetensors");
            Assert.Equal(id == uninterrupted ? 1 : 1 + KillsPerRun, merge.GetProperty("attempts").GetInt32());
        }
    }

    [Fact]
    public async Task A_merge_cancelled_while_queued_is_never_run_by_a_worker_that_starts_later()
    {
        var inputs = await TinyService.UploadAsync(service, _files, tasks: 2, seed: 43);
        var id = await SubmitAsync(inputs);
        using (var cancel = await service.Client.PostAsync($"/merges/{id}/cancel", null))
            Assert.Equal(System.Net.HttpStatusCode.OK, cancel.StatusCode);
        var later = await SubmitAsync(inputs); // queued behind it: when this one is done, the cancelled one had its chance
        using (ServiceProcess.Worker(service.Settings, _files.File("queued.log")))
            await FinishedOutcomeAsync(later);
        var merge = await service.Client.GetFromJsonAsync<JsonElement>($"/merges/{id}");
        Assert.Equal("cancelled", merge.GetProperty("status").GetString());
        Assert.Equal(0, merge.GetProperty("attempts").GetInt32());
        Assert.Equal(0, merge.GetProperty("files").GetArrayLength());
    }

    [Fact]
    public async Task SIGTERM_requeues_the_running_merge_and_the_next_worker_resumes_it()
    {
        var inputs = await TinyService.UploadAsync(service, _files, tasks: 2, seed: 42);
        string log = _files.File("sigterm.log");
        var id = await SubmitAsync(inputs);
        using (var worker = ServiceProcess.Worker(service.Settings, log))
        {
            await WaitForStepAsync(id, 50, TimeSpan.FromSeconds(60));
            Assert.True(worker.Terminate(TimeSpan.FromSeconds(30)), "the worker did not stop within 30 s of SIGTERM");
        }
        int stoppedAt = SavedStep(id);
        Assert.InRange(stoppedAt, 50, Steps - 1);
        var merge = await service.Client.GetFromJsonAsync<JsonElement>($"/merges/{id}");
        Assert.Equal("running", merge.GetProperty("status").GetString()); // re-queued, not failed or cancelled

        (string, string, string) resumed;
        using (ServiceProcess.Worker(service.Settings, log))
            resumed = await FinishedOutcomeAsync(id);
        Assert.Contains($"Merge {id} resumes AdaMerging from its saved state at step {stoppedAt}", File.ReadAllText(log), StringComparison.Ordinal);
        Assert.Equal(2, (await service.Client.GetFromJsonAsync<JsonElement>($"/merges/{id}")).GetProperty("attempts").GetInt32());
        // Its events tell the story in order: queued, started, …, retried, resumed at the saved step, …, succeeded.
        var events = (await service.Client.GetFromJsonAsync<JsonElement>($"/merges/{id}/events?limit=1000")).GetProperty("data").EnumerateArray().ToList();
        var types = events.Select(e => e.GetProperty("type").GetString()).ToList();
        Assert.Equal(["queued", "started"], types.Take(2));
        Assert.Equal("succeeded", types[^1]);
        int retried = types.IndexOf("retried"), resumedAt = types.IndexOf("resumed");
        Assert.True(retried > 1 && resumedAt > retried, string.Join(", ", types));
        Assert.Equal(stoppedAt, events[resumedAt].GetProperty("step").GetInt32());

        var fresh = await SubmitAsync(inputs);
        using (ServiceProcess.Worker(service.Settings, log))
            Assert.Equal(await FinishedOutcomeAsync(fresh), resumed);
    }
}
