using System.Net;
using AdaMerging.Tests.Support;

namespace AdaMerging.Tests.Api;

/// <summary>
/// /metrics is never anonymous on the public port (issue 33): behind an admin key there, or anonymous on a port of its
/// own (AdaMerging:MetricsPort) that the deployment keeps inside, where nothing else is served.
/// </summary>
public sealed class MetricsAccessTests(ServiceFixture service) : TempDirectoryTests, IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task On_the_public_port_metrics_need_an_admin_key()
    {
        using var anonymous = await service.Anonymous.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using var owner = await service.Client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.Forbidden, owner.StatusCode);
        using var admin = await service.Admin.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        Assert.Contains("adamerging_merges{", await admin.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_a_metrics_port_metrics_are_served_there_without_a_key_and_only_there()
    {
        var (publicPort, metricsPort) = (ApiProcess.FreePort(), ApiProcess.FreePort());
        var settings = service.Settings.Append(new("AdaMerging:MetricsPort", metricsPort.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            .Append(new("Urls", $"http://127.0.0.1:{publicPort}")).ToDictionary(kv => kv.Key, kv => kv.Value);
        using var api = ServiceProcess.Start("AdaMerging.Api.dll", settings, Dir.File("api.log"));
        using var scraper = new HttpClient();
        HttpStatusCode? status = null;
        await Poll.UntilAsync(async () =>
        {
            Assert.False(api.HasExited, File.ReadAllText(api.LogPath));
            try
            {
                using var scraped = await scraper.GetAsync($"http://127.0.0.1:{metricsPort}/metrics");
                status = scraped.StatusCode;
                return true;
            }
            catch (HttpRequestException)
            {
                return false; // not listening yet
            }
        }, TimeSpan.FromSeconds(90), () => "the metrics port never answered", everyMilliseconds: 200);
        Assert.Equal(HttpStatusCode.OK, status);
        using var onPublic = await scraper.GetAsync($"http://127.0.0.1:{publicPort}/metrics");
        Assert.Equal(HttpStatusCode.Unauthorized, onPublic.StatusCode); // the public port serves nothing anonymously
        using var admin = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{publicPort}/metrics");
        admin.Headers.Add("X-Api-Key", await service.CreateKeyAsync("metrics-admin", admin: true));
        using var withKey = await scraper.SendAsync(admin);
        Assert.Equal(HttpStatusCode.NotFound, withKey.StatusCode); // and, with a metrics port, has no /metrics at all
        using var apiOnMetricsPort = await scraper.GetAsync($"http://127.0.0.1:{metricsPort}/merges");
        Assert.NotEqual(HttpStatusCode.OK, apiOnMetricsPort.StatusCode);
    }
}
