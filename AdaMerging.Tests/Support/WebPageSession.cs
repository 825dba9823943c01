namespace AdaMerging.Tests.Support;

/// <summary>
/// What every web page test stands on: a key of <see cref="Secret"/>'s owner, the API as a real process on the
/// fixture's database (the fixture's worker runs its merges), and headless chromium; disposed in reverse.
/// </summary>
public sealed record WebPageSession(string Secret, HttpClient Client, HeadlessChromium Browser, ServiceProcess Api) : IAsyncDisposable
{
    public static async Task<WebPageSession> StartAsync(ServiceFixture service, TempDirectory dir, string owner)
    {
        var secret = await service.CreateKeyAsync(owner);
        var (api, client) = await ApiProcess.StartAsync(service, ApiProcess.FreePort(), secret, dir.File("api.log"));
        try
        {
            return new WebPageSession(secret, client, await HeadlessChromium.LaunchAsync(dir), api);
        }
        catch
        {
            client.Dispose();
            api.Dispose();
            throw;
        }
    }

    /// <summary>A new tab at <paramref name="hash"/>, signed in with the session's key.</summary>
    public async Task<WebPageDriver> SignedInAsync(string hash = "", int width = 1280, int height = 900, List<string>? consoleErrors = null)
    {
        var web = new WebPageDriver(await Browser.NewPageAsync(width, height, consoleErrors), Client.BaseAddress!);
        await web.OpenAsync(hash);
        await web.SignInAsync(Secret);
        return web;
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        Client.Dispose();
        Api.Dispose();
    }
}
