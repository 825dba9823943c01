using System.Net;
using System.Text.Json;
using AdaMerging.Tests.Support;

namespace AdaMerging.Tests.Api;

/// <summary>
/// The API as an operator runs it behind a load balancer (issue 33): callers told apart by the X-Forwarded-For a known
/// proxy adds, and logs as JSON for a log pipeline.
/// </summary>
public sealed class BehindAProxyTests(ServiceFixture service) : TempDirectoryTests, IClassFixture<ServiceFixture>
{
    private static async Task<HttpStatusCode> AnonymousAsync(HttpClient client, string forwardedFor)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/merges");
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }

    [Fact]
    public async Task Anonymous_callers_behind_a_known_proxy_get_rate_limits_of_their_own_and_logs_are_json_lines()
    {
        var port = ApiProcess.FreePort();
        var settings = service.Settings
            .Append(new("Urls", $"http://127.0.0.1:{port}"))
            .Append(new("AdaMerging:KnownProxies:0", "127.0.0.1"))
            .Append(new("AdaMerging:RequestsPerSecondPerKey", "1"))
            .Append(new("AdaMerging:LogFormat", "json"))
            .ToDictionary(kv => kv.Key, kv => kv.Value);
        using var api = ServiceProcess.Start("AdaMerging.Api.dll", settings, Dir.File("api.log"));
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        await ApiProcess.WaitReadyAsync(api, client);

        // One caller spends its bucket (a second's worth: one request); another, behind the same proxy, still has its own.
        var first = new List<HttpStatusCode>();
        for (var i = 0; i < 5 && !first.Contains(HttpStatusCode.TooManyRequests); i++) first.Add(await AnonymousAsync(client, "203.0.113.1"));
        Assert.Contains(HttpStatusCode.TooManyRequests, first);
        Assert.Equal(HttpStatusCode.Unauthorized, await AnonymousAsync(client, "203.0.113.2"));

        // Every line of the log is one JSON event, the requests' among them (they reach the file as the process writes them).
        var lines = new List<string>();
        await Poll.UntilAsync(() =>
        {
            lines = [.. File.ReadAllLines(api.LogPath).Where(l => l.Length > 0)];
            return Task.FromResult(lines.Any(l => l.Contains("responded 401", StringComparison.Ordinal)));
        }, TimeSpan.FromSeconds(30), () => "no request line in the log: " + string.Join("\n", lines), everyMilliseconds: 100);
        Assert.All(lines, l => Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(l).RootElement.ValueKind));
        var request = JsonDocument.Parse(lines.First(l => l.Contains("responded 401", StringComparison.Ordinal))).RootElement;
        Assert.Equal("/merges", request.GetProperty("Properties").GetProperty("RequestPath").GetString());
        Assert.Equal(401, request.GetProperty("Properties").GetProperty("StatusCode").GetInt32());
    }
}
