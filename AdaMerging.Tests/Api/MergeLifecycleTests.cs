using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AdaMerging.Tests.Support;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;

namespace AdaMerging.Tests.Api;

/// <summary>Listing, cancelling and idempotent submission of merges over HTTP with a real worker.</summary>
public sealed class MergeLifecycleTests(ServiceFixture service) : IClassFixture<ServiceFixture>, IDisposable
{
    private readonly TempDirectory _files = new();

    public void Dispose() => _files.Dispose();

    private static object LongAdaMerging(TinyService.Inputs inputs) => new
    {
        method = "adamerging", @base = inputs.Base, tasks = inputs.TaskJson(),
        options = new { steps = 100_000, batchSize = 4 },
    };

    [Fact]
    public async Task A_running_merge_cancels_within_seconds_and_publishes_nothing()
    {
        var inputs = await TinyService.UploadAsync(service, _files, tasks: 2, seed: 31);
        using var submitted = await service.Client.PostAsJsonAsync("/merges", LongAdaMerging(inputs));
        var location = submitted.Headers.Location!.ToString();
        await service.WaitForFirstStepAsync(location);

        using var cancel = await service.Client.PostAsync(location + "/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        // This merge's job only: other tests' callback retries may be processing on the same storage meanwhile.
        var monitoring = service.WorkerServices.GetRequiredService<JobStorage>().GetMonitoringApi();
        var id = Guid.Parse(location[(location.LastIndexOf('/') + 1)..]);
        bool Processing() => monitoring.ProcessingJobs(0, 100).Any(j => j.Value.Job?.Type == typeof(AdaMerging.Infrastructure.Jobs.MergeJobRunner) && j.Value.Job.Args.Contains(id));
        var took = await Poll.UntilAsync(() => !Processing(), TimeSpan.FromSeconds(10), "the merge's job is still processing");
        Assert.True(took < TimeSpan.FromSeconds(5), $"the worker took {took} to stop");

        var merge = await service.Client.GetFromJsonAsync<JsonElement>(location);
        Assert.Equal("cancelled", merge.GetProperty("status").GetString());
        Assert.Equal(0, merge.GetProperty("files").GetArrayLength());
        using var again = await service.Client.PostAsync(location + "/cancel", null);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task A_retried_POST_with_the_same_Idempotency_Key_returns_the_same_merge()
    {
        var inputs = await TinyService.UploadAsync(service, _files, tasks: 1, seed: 32);
        var body = new { method = "task_arithmetic", @base = inputs.Base, tasks = new[] { new { name = "a", checkpoint = inputs.Tasks[0].Checkpoint } } };
        async Task<HttpResponseMessage> Post(object request)
        {
            using var message = new HttpRequestMessage(HttpMethod.Post, "/merges") { Content = JsonContent.Create(request) };
            message.Headers.Add("Idempotency-Key", "retry-7f3a");
            return await service.Client.SendAsync(message);
        }
        using var first = await Post(body);
        using var second = await Post(body);
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        Assert.Equal(first.Headers.Location, second.Headers.Location);

        Assert.Equal("true", second.Headers.GetValues("Idempotent-Replayed").Single());

        using var different = await Post(body with { method = "weight_averaging" });
        var problem = await Problems.ReadAsync(different, HttpStatusCode.UnprocessableEntity);
        Assert.Equal("idempotency_key_reused", problem.GetProperty("code").GetString());
        Assert.Contains("different request", Problems.Text(problem), StringComparison.Ordinal);
        await service.WaitForMergeAsync(first.Headers.Location!.ToString());
    }

    [Fact]
    public async Task The_callback_url_receives_the_final_status_and_a_refusing_receiver_is_retried()
    {
        var inputs = await TinyService.UploadAsync(service, _files, tasks: 1, seed: 34);
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/hook/");
        listener.Start();
        using var submitted = await service.Client.PostAsJsonAsync("/merges", new
        {
            method = "task_arithmetic", @base = inputs.Base, tasks = new[] { new { name = "a", checkpoint = inputs.Tasks[0].Checkpoint } },
            callbackUrl = $"http://127.0.0.1:{port}/hook/done",
        });
        var id = (await submitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var first = await listener.GetContextAsync().WaitAsync(timeout.Token);
        first.Response.StatusCode = 503; // the receiver is down at first
        first.Response.Close();
        var second = await listener.GetContextAsync().WaitAsync(timeout.Token);
        var body = await JsonDocument.ParseAsync(second.Request.InputStream);
        second.Response.StatusCode = 200;
        second.Response.Close();
        Assert.Equal(id, body.RootElement.GetProperty("id").GetString());
        Assert.Equal("succeeded", body.RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Merges_list_newest_first_filtered_and_paged_by_cursor_with_the_offset_form_kept()
    {
        var inputs = await TinyService.UploadAsync(service, _files, tasks: 1, seed: 33);
        var ids = new List<string>();
        foreach (var method in new[] { "task_arithmetic", "weight_averaging", "task_arithmetic" })
        {
            using var r = await service.Client.PostAsJsonAsync("/merges", new { method, @base = inputs.Base, tasks = new[] { new { name = "a", checkpoint = inputs.Tasks[0].Checkpoint } } });
            ids.Add((await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!);
        }
        foreach (var id in ids) await service.WaitForMergeAsync($"/merges/{id}");

        const string filter = "/merges?method=task_arithmetic&status=succeeded&limit=1";
        var page = await service.Client.GetFromJsonAsync<JsonElement>(filter);
        Assert.True(page.GetProperty("total").GetInt32() >= 2);
        Assert.Equal(ids[2], page.GetProperty("data")[0].GetProperty("id").GetString());
        Assert.Equal(ids[2], page.GetProperty("firstId").GetString());
        Assert.True(page.GetProperty("hasMore").GetBoolean());
        Assert.False(page.TryGetProperty("items", out _)); // the one list shape: data, hasMore, firstId, lastId (and total)
        var second = await service.Client.GetFromJsonAsync<JsonElement>($"{filter}&after={page.GetProperty("lastId").GetString()}");
        Assert.Equal(ids[0], second.GetProperty("data")[0].GetProperty("id").GetString());
        // The deprecated offset form still answers, with its old fields beside the new ones, for one release.
        var byOffset = await service.Client.GetFromJsonAsync<JsonElement>($"{filter}&offset=1");
        Assert.Equal(ids[0], byOffset.GetProperty("items")[0].GetProperty("id").GetString());
        Assert.Equal(ids[0], byOffset.GetProperty("data")[0].GetProperty("id").GetString());
        Assert.Equal(1, byOffset.GetProperty("offset").GetInt32());
        using var bad = await service.Client.GetAsync("/merges?limit=0");
        await Problems.ReadAsync(bad, HttpStatusCode.BadRequest);
        using var both = await service.Client.GetAsync($"/merges?offset=1&after={ids[0]}");
        await Problems.ReadAsync(both, HttpStatusCode.BadRequest);
    }
}
