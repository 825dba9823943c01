using System.Net;
using System.Net.Sockets;

namespace AdaMerging.Tests.Support;

/// <summary>The API as a real process on a real port (Kestrel, real sockets), on the fixture's database and data root.</summary>
public static class ApiProcess
{
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Starts it and waits until /health/ready answers; the client sends <paramref name="secret"/> as its key.</summary>
    public static async Task<(ServiceProcess Api, HttpClient Client)> StartAsync(ServiceFixture service, int port, string secret, string log)
    {
        var settings = service.Settings.Append(new("Urls", $"http://127.0.0.1:{port}")).ToDictionary(kv => kv.Key, kv => kv.Value);
        var api = ServiceProcess.Start("AdaMerging.Api.dll", settings, log);
        var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        client.DefaultRequestHeaders.Add("X-Api-Key", secret);
        await WaitReadyAsync(api, client);
        return (api, client);
    }

    /// <summary>Polls /health/ready until it answers 200; fails at once, with its log, if the process exits first.</summary>
    public static Task WaitReadyAsync(ServiceProcess api, HttpClient client) =>
        Poll.UntilAsync(async () =>
        {
            try
            {
                using var ready = await client.GetAsync("/health/ready");
                if (ready.IsSuccessStatusCode) return true;
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            Assert.False(api.HasExited, $"the API exited: {File.ReadAllText(api.LogPath)}");
            return false;
        }, TimeSpan.FromSeconds(90), () => "the API did not become ready", everyMilliseconds: 200);
}
