using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AdaMerging.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace AdaMerging.Tests.Api;

/// <summary>The worker serves its own /metrics on a port of its own.</summary>
public sealed class MetricsFixture : ServiceFixture
{
    public int WorkerMetricsPort { get; } = ApiProcess.FreePort();

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
    [
        new("AdaMerging:WorkerMetricsPort", WorkerMetricsPort.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("AdaMerging:WorkerMetricsHost", "127.0.0.1"),
    ];
}

/// <summary>Prometheus metrics from the API and the worker, and one W3C trace id from the request into the worker (issue 15).</summary>
public sealed class ObservabilityTests(MetricsFixture service) : TempDirectoryTests, IClassFixture<MetricsFixture>
{
    private string WorkerMetrics => $"http://127.0.0.1:{service.WorkerMetricsPort}/metrics";

    [Fact]
    public async Task Metrics_scraped_before_and_after_a_merge_count_its_uploads_state_steps_phases_and_a_failure()
    {
        using var scraper = new HttpClient();
        var api0 = await PrometheusText.ScrapeAsync(service.Admin, "/metrics");
        var worker0 = await PrometheusText.ScrapeAsync(scraper, WorkerMetrics);
        Assert.True(api0.Of("adamerging_workers_alive{queue=\"test\"}") >= 1, "no merge worker reported alive");
        Assert.Contains("adamerging_queue_depth{queue=\"test\"}", api0.Keys);
        Assert.Contains("adamerging_queue_depth{queue=\"callbacks\"}", api0.Keys);

        var inputs = await TinyService.UploadAsync(service, Dir, tasks: 2, seed: 101);
        var api1 = await PrometheusText.ScrapeAsync(service.Admin, "/metrics");
        var uploaded = api1.Of("adamerging_uploaded_bytes_total{kind=\"checkpoints\"}") - api0.Of("adamerging_uploaded_bytes_total{kind=\"checkpoints\"}");
        Assert.True(uploaded >= 3 * new FileInfo(ClipTiny.File("model.safetensors")).Length, $"uploaded bytes grew by {uploaded}");

        using var submitted = await service.Client.PostAsJsonAsync("/merges", new
        {
            method = "adamerging", @base = inputs.Base, tasks = inputs.TaskJson(), options = new { steps = 7, batchSize = 4 },
        });
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        Assert.Equal("succeeded", (await service.WaitForMergeAsync(submitted.Headers.Location!.ToString())).GetProperty("status").GetString());
        await FailOneMergeAsync();

        var api2 = await PrometheusText.ScrapeAsync(service.Admin, "/metrics");
        var worker2 = await PrometheusText.ScrapeAsync(scraper, WorkerMetrics);
        Assert.Equal(api0.Of("adamerging_merges{state=\"succeeded\"}") + 1, api2.Of("adamerging_merges{state=\"succeeded\"}"));
        Assert.Equal(api0.Of("adamerging_merges{state=\"failed\"}") + 1, api2.Of("adamerging_merges{state=\"failed\"}"));
        Assert.Equal(0, api2.Of("adamerging_merges{state=\"running\"}"));
        const string duration = "adamerging_merge_duration_seconds_count{method=\"adamerging\",status=\"succeeded\"}";
        Assert.Equal(worker0.Of(duration) + 1, worker2.Of(duration));
        Assert.Equal(worker0.Of("adamerging_optimisation_steps_total{method=\"adamerging\"}") + 7, worker2.Of("adamerging_optimisation_steps_total{method=\"adamerging\"}"));
        var phases = worker2.Keys.Where(k => k.StartsWith("adamerging_merge_phase_duration_seconds_count{method=\"adamerging\"", StringComparison.Ordinal)).ToList();
        Assert.True(phases.Count >= 2, "phase durations: " + string.Join(", ", phases));
        Assert.Equal(worker0.Of("adamerging_merge_failures_total{code=\"merge_failed\"}") + 1, worker2.Of("adamerging_merge_failures_total{code=\"merge_failed\"}"));
        Assert.Contains(api2.Keys, k => k.StartsWith("http_requests_received_total{", StringComparison.Ordinal)
            && k.Contains("code=\"202\"", StringComparison.Ordinal) && k.Contains("method=\"POST\"", StringComparison.Ordinal));
    }

    /// <summary>A queued merge whose base file is removed before the worker reads it: it fails with merge_failed.</summary>
    private async Task FailOneMergeAsync()
    {
        var (theta0, tasks) = TestCheckpoints.Family(1, seed: 5);
        TestCheckpoints.Save(Dir.File("doomed-base.safetensors"), theta0);
        TestCheckpoints.Save(Dir.File("doomed-task.safetensors"), tasks[0]);
        var baseBody = await service.UploadAsync(Dir.File("doomed-base.safetensors"));
        var taskId = Guid.Parse((await service.UploadAsync(Dir.File("doomed-task.safetensors"))).GetProperty("id").GetString()!);
        var sha = baseBody.GetProperty("files")[0].GetProperty("sha256").GetString()!;
        var request = new AdaMerging.Infrastructure.Contract.MergeRequest("task_arithmetic", Guid.Parse(baseBody.GetProperty("id").GetString()!),
            [new AdaMerging.Infrastructure.Contract.MergeTask("t", taskId)], null);
        var job = new AdaMerging.Domain.Jobs.MergeJob(Guid.NewGuid(), "task_arithmetic", JsonSerializer.Serialize(request, JsonSerializerOptions.Web), DateTimeOffset.UtcNow);
        job.OwnedBy("alice");
        await using (var db = service.NewDbContext())
        {
            db.Merges.Add(job);
            await db.SaveChangesAsync();
        }
        File.Delete(Path.Combine(service.DataRoot, "blobs", "sha256", sha[..2], sha));
        service.ApiServices.GetRequiredService<AdaMerging.Infrastructure.Queue.MergeScheduler>().Enqueue(job.Id, job.Method);
        Assert.Equal("failed", (await service.WaitForMergeAsync($"/merges/{job.Id}")).GetProperty("status").GetString());
    }

    [Fact]
    public async Task The_worker_answers_live_and_ready_beside_its_metrics_with_the_database_heartbeat_and_devices_checked()
    {
        using var probe = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{service.WorkerMetricsPort}") };
        Assert.Equal("Healthy", await probe.GetStringAsync("/health/live"));
        JsonElement ready = default;
        // The in-process worker's Hangfire servers register their first heartbeat as they start: poll until they have.
        await Poll.UntilAsync(async () =>
        {
            using var answer = await probe.GetAsync("/health/ready");
            ready = JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement;
            return answer.StatusCode == HttpStatusCode.OK;
        }, TimeSpan.FromSeconds(60), () => $"the worker is not ready: {ready}", everyMilliseconds: 200);
        var checks = ready.GetProperty("checks");
        Assert.Equal(["database", "devices", "heartbeat"], checks.EnumerateObject().Select(c => c.Name).Order(StringComparer.Ordinal));
        Assert.All(checks.EnumerateObject(), c => Assert.Equal("Healthy", c.Value.GetProperty("status").GetString()));
        Assert.Equal("cpu compute", checks.GetProperty("devices").GetProperty("description").GetString());
    }

    [Fact]
    public async Task One_W3C_trace_id_runs_from_the_submitting_request_through_the_worker_and_into_problem_details()
    {
        var inputs = await TinyService.UploadAsync(service, Dir, tasks: 1, seed: 102);
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        using var message = new HttpRequestMessage(HttpMethod.Post, "/merges")
        {
            Content = JsonContent.Create(new { method = "task_arithmetic", @base = inputs.Base, tasks = inputs.TaskJson() }),
        };
        message.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
        using var submitted = await service.Client.SendAsync(message);
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        var id = (await submitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        await service.WaitForMergeAsync($"/merges/{id}");

        Assert.Contains(service.ApiLog.Lines, l => l.Contains("\"/merges\" responded 202", StringComparison.Ordinal) && l.Contains(traceId, StringComparison.Ordinal));
        var workerLines = service.WorkerLog.Lines.Where(l => l.Contains(id, StringComparison.Ordinal)).ToList();
        var shown = string.Join("\n", workerLines) + $"\n({service.WorkerLog.Lines.Count} worker lines in all; last: {string.Join(" | ", service.WorkerLog.Lines.TakeLast(4))})";
        Assert.True(workerLines.Any(l => l.Contains("started", StringComparison.Ordinal) && l.Contains($"TraceId={traceId}", StringComparison.Ordinal)), shown);
        Assert.True(workerLines.Any(l => l.Contains("succeeded", StringComparison.Ordinal) && l.Contains($"TraceId={traceId}", StringComparison.Ordinal)), shown);

        using var bad = new HttpRequestMessage(HttpMethod.Post, "/merges") { Content = JsonContent.Create(new { method = "nope" }) };
        var badTrace = ActivityTraceId.CreateRandom().ToHexString();
        bad.Headers.Add("traceparent", $"00-{badTrace}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
        var problem = await Problems.ReadAsync(await service.Client.SendAsync(bad), HttpStatusCode.BadRequest);
        Assert.Equal(badTrace, problem.GetProperty("traceId").GetString());
    }
}
