using System.Net.Http.Json;
using AdaMerging.Tests.Support;

namespace AdaMerging.Tests.Api;

/// <summary>No worker: a merge stays queued, so its event stream has nothing to say for as long as the test wants.</summary>
public sealed class SilentQueueFixture : ServiceFixture
{
    protected override bool InProcessWorker => false;

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() => [new("AdaMerging:EventStreamKeepAliveSeconds", "1")];
}

/// <summary>The event stream survives a load balancer's idle timeout and tells EventSource how soon to reconnect (issue 33).</summary>
public sealed class EventStreamKeepAliveTests(SilentQueueFixture service) : TempDirectoryTests, IClassFixture<SilentQueueFixture>
{
    [Fact]
    public async Task A_silent_stream_opens_with_retry_and_sends_a_comment_every_keep_alive_interval_until_the_merge_ends()
    {
        var inputs = await TinyService.UploadAsync(service, Dir, tasks: 2, seed: 92);
        using var submitted = await service.Client.PostAsJsonAsync("/merges", new { method = "task_arithmetic", @base = inputs.Base, tasks = inputs.TaskJson() });
        var location = submitted.Headers.Location!.ToString();

        using var stream = await service.Client.GetStreamAsync(location + "/events/stream");
        using var reader = new StreamReader(stream);
        Assert.Equal("retry: 3000", await reader.ReadLineAsync());
        var started = DateTime.UtcNow;
        var lines = new List<string>();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (lines.Count(l => l == ": keep-alive") < 2 && await reader.ReadLineAsync(deadline.Token) is { } line) lines.Add(line);
        Assert.Equal(2, lines.Count(l => l == ": keep-alive")); // the queued event, then silence filled every second
        Assert.Contains("event: queued", lines);
        Assert.True(DateTime.UtcNow - started >= TimeSpan.FromSeconds(1.5), "two comments came sooner than two intervals");

        // The stream still ends with the merge.
        using var cancelled = await service.Client.PostAsync(location + "/cancel", null);
        cancelled.EnsureSuccessStatusCode();
        var rest = await reader.ReadToEndAsync(deadline.Token);
        Assert.Contains("event: cancelled", rest, StringComparison.Ordinal);
    }
}
