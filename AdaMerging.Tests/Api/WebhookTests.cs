using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AdaMerging.Tests.Support;
using Microsoft.AspNetCore.Http;
using StandardWebhooks;
using StandardWebhooks.Diagnostics;

namespace AdaMerging.Tests.Api;

/// <summary>A receiver on loopback that collects callbacks, each with its headers and body.</summary>
public sealed class CallbackReceiver : IDisposable
{
    private readonly HttpListener _listener = new();

    public CallbackReceiver()
    {
        using (var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/hook/");
        _listener.Start();
    }

    public int Port { get; }

    public async Task<(HeaderDictionary Headers, string Body)?> NextAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            var context = await _listener.GetContextAsync().WaitAsync(cts.Token);
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync(cts.Token);
            var headers = new HeaderDictionary();
            foreach (var key in context.Request.Headers.AllKeys) headers[key!] = context.Request.Headers[key];
            context.Response.StatusCode = 200;
            context.Response.Close();
            return (headers, body);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    public void Dispose() => _listener.Close();
}

/// <summary>Callbacks signed as Standard Webhooks specifies, filtered by event, with absolute links (issue 15).</summary>
public sealed class WebhookTests(ServiceFixture service) : TempDirectoryTests, IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task Callbacks_are_signed_with_the_owner_s_secret_filtered_by_event_and_a_tampered_one_fails_verification()
    {
        var secret = (await service.Client.GetFromJsonAsync<JsonElement>("/webhooks/secret")).GetProperty("secret").GetString()!;
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        var inputs = await TinyService.UploadAsync(service, Dir, tasks: 2, seed: 81);
        using var receiver = new CallbackReceiver();
        using var submitted = await service.Client.PostAsJsonAsync("/merges", new
        {
            method = "task_arithmetic", @base = inputs.Base, tasks = inputs.TaskJson(),
            callbackUrl = $"http://127.0.0.1:{receiver.Port}/hook/merge", callbackEvents = new[] { "started", "progress", "completed" },
        });
        var id = (await submitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();

        var webhook = new StandardWebhook(secret);
        var types = new List<string>();
        (HeaderDictionary Headers, string Body) last = (new HeaderDictionary(), "");
        // Two callback workers deliver in parallel, so events may arrive out of order (docs/api.md, "Events and
        // callbacks"): wait for each wanted one, whatever the order.
        string[] wanted = ["merge.started", "merge.progress", "merge.completed"];
        while (!wanted.All(types.Contains))
        {
            var next = await receiver.NextAsync(TimeSpan.FromSeconds(60)) ?? throw new TimeoutException($"no callback after {string.Join(", ", types)}");
            webhook.Verify(next.Body, next.Headers); // throws when the signature does not match
            var body = JsonDocument.Parse(next.Body).RootElement;
            Assert.Equal(id, body.GetProperty("id").GetString());
            types.Add(body.GetProperty("type").GetString()!);
            if (types[^1] == "merge.completed") last = next;
        }
        Assert.DoesNotContain(types, t => !wanted.Contains(t));   // filtered: nothing it did not ask for
        var links = JsonDocument.Parse(last.Body).RootElement.GetProperty("links");
        Assert.Equal($"http://127.0.0.1:5080/merges/{id}/model", links.GetProperty("model").GetString());

        Assert.Throws<WebhookVerificationException>(() => webhook.Verify(last.Body.Replace("succeeded", "failed", StringComparison.Ordinal), last.Headers));
        var stranger = (await (await service.ClientForAsync("stranger")).GetFromJsonAsync<JsonElement>("/webhooks/secret")).GetProperty("secret").GetString()!;
        Assert.Throws<WebhookVerificationException>(() => new StandardWebhook(stranger).Verify(last.Body, last.Headers));
    }

    [Fact]
    public async Task Without_callback_events_the_end_is_sent_as_merge_succeeded_the_event_s_own_name()
    {
        var inputs = await TinyService.UploadAsync(service, Dir, tasks: 1, seed: 83);
        using var receiver = new CallbackReceiver();
        using var submitted = await service.Client.PostAsJsonAsync("/merges", new
        {
            method = "task_arithmetic", @base = inputs.Base, tasks = inputs.TaskJson(), callbackUrl = $"http://127.0.0.1:{receiver.Port}/hook/end",
        });
        var id = (await submitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        var next = await receiver.NextAsync(TimeSpan.FromSeconds(60)) ?? throw new TimeoutException("no callback");
        Assert.Equal("merge.succeeded", JsonDocument.Parse(next.Body).RootElement.GetProperty("type").GetString());
        var events = await service.Client.GetFromJsonAsync<JsonElement>($"/merges/{id}/events?after=0");
        Assert.Contains(events.GetProperty("data").EnumerateArray(), e => e.GetProperty("type").GetString() == "succeeded");   // the same name as the event
    }

    [Fact]
    public async Task Unknown_callback_events_are_refused_naming_the_known_ones()
    {
        using var response = await service.Client.PostAsJsonAsync("/merges", new
        {
            method = "task_arithmetic", @base = Guid.NewGuid(), tasks = new[] { new { name = "a", checkpoint = Guid.NewGuid() } },
            callbackUrl = "https://example.org/hook", callbackEvents = new[] { "finished" },
        });
        Assert.Contains("'finished' is not one of started, progress, succeeded, failed, cancelled, completed",
            Problems.Text(await Problems.ReadAsync(response, HttpStatusCode.BadRequest)), StringComparison.Ordinal);
    }
}

/// <summary>No callback allow-list: loopback and private targets are refused.</summary>
public sealed class NoCallbackAllowListFixture : ServiceFixture
{
    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() => [new("AdaMerging:CallbackAllowList:0", "")];
}

/// <summary>Callbacks to loopback, private, link-local and metadata addresses are refused, at submit and at send time (issue 15).</summary>
public sealed class CallbackTargetTests(NoCallbackAllowListFixture service) : TempDirectoryTests, IClassFixture<NoCallbackAllowListFixture>
{
    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data/", "169.254.0.0/16")]
    [InlineData("http://10.1.2.3:8080/hook", "10.0.0.0/8")]
    [InlineData("http://[::1]/hook", "::1/128")]
    [InlineData("http://192.168.1.10/hook", "192.168.0.0/16")]
    public async Task A_literal_forbidden_address_is_refused_at_submit(string url, string range)
    {
        using var response = await service.Client.PostAsJsonAsync("/merges", new
        {
            method = "task_arithmetic", @base = Guid.NewGuid(), tasks = new[] { new { name = "a", checkpoint = Guid.NewGuid() } }, callbackUrl = url,
        });
        Assert.Contains($"is in {range}", Problems.Text(await Problems.ReadAsync(response, HttpStatusCode.BadRequest)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_name_that_resolves_to_loopback_is_refused_when_sent_logged_and_never_reaches_the_receiver()
    {
        var inputs = await TinyService.UploadAsync(service, Dir, tasks: 1, seed: 82);
        using var receiver = new CallbackReceiver();
        using var submitted = await service.Client.PostAsJsonAsync("/merges", new
        {
            method = "task_arithmetic", @base = inputs.Base, tasks = inputs.TaskJson(), callbackUrl = $"http://localhost:{receiver.Port}/hook/x?token=abc",
        });
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode); // a name is checked on what it resolves to, when the callback is sent
        var id = (await submitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        Assert.Equal("succeeded", (await service.WaitForMergeAsync($"/merges/{id}")).GetProperty("status").GetString());

        await Poll.UntilAsync(() => service.WorkerLog.Lines.Any(l => l.Contains($"Callback for merge {id}", StringComparison.Ordinal) && l.Contains("refused", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(60), $"the worker never logged merge {id}'s callback as refused");
        var lines = service.WorkerLog.Lines.Where(l => l.Contains($"Callback for merge {id}", StringComparison.Ordinal)).ToList();
        Assert.True(lines.Count == 1, "worker log about this merge's callback:\n" + string.Join("\n", service.WorkerLog.Lines.Where(l => l.Contains(id!, StringComparison.Ordinal) || l.Contains("allback", StringComparison.Ordinal))));
        var line = lines[0];
        Assert.Contains($"http://localhost:{receiver.Port}/hook/x\" refused", line, StringComparison.Ordinal);
        Assert.Contains("is in 127.0.0.0/8", line, StringComparison.Ordinal);
        Assert.DoesNotContain("token=abc", line, StringComparison.Ordinal);
        Assert.Null(await receiver.NextAsync(TimeSpan.FromSeconds(2)));
    }
}
