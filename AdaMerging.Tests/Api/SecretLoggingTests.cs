using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AdaMerging.Tests.Support;

namespace AdaMerging.Tests.Api;

/// <summary>Both hosts logging everything, down to Verbose.</summary>
public sealed class VerboseLogFixture : ServiceFixture
{
    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
    [
        new("Serilog:MinimumLevel:Default", "Verbose"),
        new("Serilog:MinimumLevel:Override:Microsoft", "Verbose"),
        new("Serilog:MinimumLevel:Override:System", "Verbose"),
        new("Serilog:MinimumLevel:Override:Hangfire", "Verbose"),
    ];
}

/// <summary>
/// Runs alone: with another test class's hosts starting in the same process at the same time, this class's Verbose
/// lines (the callback's delivery among them) went missing — measured at the commit before this session too, when
/// run together with StoreTests — so it never shares the process's run with another class.
/// </summary>
[CollectionDefinition(nameof(SecretLoggingTests), DisableParallelization = true)]
public sealed class SecretLoggingRunsAlone;

[Collection(nameof(SecretLoggingTests))]
public sealed class SecretLoggingTests(VerboseLogFixture service) : IClassFixture<VerboseLogFixture>, IDisposable
{
    private readonly TempDirectory _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task No_key_secret_or_callback_credential_reaches_any_log_line_even_at_Verbose()
    {
        var inputs = await TinyService.UploadAsync(service, _files, tasks: 1, seed: 71);
        var adminSecret = await service.CreateKeyAsync("ops", admin: true);
        using var viaAdmin = await service.ClientForAsync("ops2", admin: true);

        // A key made over HTTP: its secret is in the response body, once.
        using var created = await viaAdmin.PostAsJsonAsync("/keys", new { owner = "bob" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var newSecret = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString()!;

        // A wrong key, and a merge whose callback URL carries a password and a token.
        using var wrong = new HttpRequestMessage(HttpMethod.Get, "/merges");
        wrong.Headers.Add("X-Api-Key", "am_" + new string('w', 40) + "-wrong-secret");
        using (var refused = await service.Anonymous.SendAsync(wrong))
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        const string password = "hunter2-callback-password", token = "tok-callback-query-secret";
        using var submitted = await service.Client.PostAsJsonAsync("/merges", new
        {
            method = "task_arithmetic", @base = inputs.Base,
            tasks = new[] { new { name = "a", checkpoint = inputs.Tasks[0].Checkpoint } },
            callbackUrl = $"http://user:{password}@127.0.0.1:9/done?token={token}",
        });
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        var merge = await service.WaitForMergeAsync(submitted.Headers.Location!.ToString());
        Assert.Equal("succeeded", merge.GetProperty("status").GetString());
        // The callback's first (refused) delivery attempt, to its end: the sender's own line that it failed and will be
        // retried is the last this host logs of it (Hangfire's retry line goes to whichever host set Hangfire's global
        // log provider last, so it is not awaited). Up to 60 s on a loaded machine: the callback queue is polled.
        List<string> Lines() => service.ApiLog.Lines.Concat(service.WorkerLog.Lines).ToList();
        bool AttemptLogged() => Lines().Any(l => l.Contains("127.0.0.1:9", StringComparison.Ordinal) && l.Contains("to be retried", StringComparison.Ordinal));
        await Poll.UntilAsync(AttemptLogged, TimeSpan.FromSeconds(60), () => "the callback's failed attempt was not logged:\n"
            + string.Join("\n", Lines().Where(l => l.Contains("allback", StringComparison.Ordinal)).TakeLast(20)), everyMilliseconds: 200);

        var clientSecret = service.Client.DefaultRequestHeaders.GetValues("X-Api-Key").Single();
        var lines = Lines();
        Assert.True(lines.Count > 50, $"only {lines.Count} lines were logged: the test would prove nothing");
        Assert.Contains(lines, l => l.Contains("127.0.0.1:9", StringComparison.Ordinal)); // the callback's delivery was logged, redacted
        foreach (var secret in new[] { clientSecret, adminSecret, newSecret, "-wrong-secret", password, token })
            Assert.DoesNotContain(lines, l => l.Contains(secret, StringComparison.Ordinal));
    }
}
