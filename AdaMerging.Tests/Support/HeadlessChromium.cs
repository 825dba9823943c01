using PuppeteerSharp;

namespace AdaMerging.Tests.Support;

/// <summary>
/// Debian's chromium, headless, driven by PuppeteerSharp over the DevTools protocol; nothing is downloaded (the system
/// browser, a profile in the test's folder). Downloads land in <see cref="Downloads"/>.
/// </summary>
public sealed class HeadlessChromium : IAsyncDisposable
{
    public const string Chromium = "/usr/bin/chromium";

    private readonly IBrowser _browser;

    private HeadlessChromium(IBrowser browser, string downloads)
    {
        _browser = browser;
        Downloads = downloads;
    }

    public string Downloads { get; }

    public static async Task<HeadlessChromium> LaunchAsync(TempDirectory dir)
    {
        Assert.True(File.Exists(Chromium), "scripts/prerequisites.sh browser installs Debian's chromium; it is missing");
        var downloads = dir.File("downloads");
        Directory.CreateDirectory(downloads);
        var browser = await Puppeteer.LaunchAsync(new LaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
            UserDataDir = dir.File("chromium-profile"),
        });
        return new HeadlessChromium(browser, downloads);
    }

    /// <summary>A new tab of the given width whose downloads go to <see cref="Downloads"/>, with the page's console errors collected.</summary>
    public async Task<IPage> NewPageAsync(int width = 1280, int height = 900, List<string>? consoleErrors = null)
    {
        var page = await _browser.NewPageAsync();
        await page.SetViewportAsync(new ViewPortOptions { Width = width, Height = height });
        await page.Client.SendAsync("Browser.setDownloadBehavior", new { behavior = "allow", downloadPath = Downloads });
        if (consoleErrors is not null)
        {
            page.Console += (_, e) => { if (e.Message.Type == ConsoleType.Error) consoleErrors.Add($"{e.Message.Text} ({e.Message.Location?.URL})"); };
            page.PageError += (_, e) => consoleErrors.Add(e.Message);
        }
        return page;
    }

    /// <summary>The whole page as a PNG in the test artifacts (test-artifacts/, beside the test results).</summary>
    public static async Task<string> ScreenshotAsync(IPage page, string name) =>
        await TestArtifacts.SaveAsync(name, await page.ScreenshotDataAsync(new ScreenshotOptions { FullPage = true }));

    /// <summary>Waits for a downloaded file to be complete (chromium writes *.crdownload until then).</summary>
    public async Task<string> DownloadedAsync(string fileName, TimeSpan timeout)
    {
        var path = Path.Combine(Downloads, fileName);
        await Poll.UntilAsync(() => File.Exists(path) && !Directory.EnumerateFiles(Downloads, "*.crdownload").Any(), timeout,
            () => $"{fileName} was not downloaded; the folder has " + string.Join(", ", Directory.EnumerateFiles(Downloads).Select(Path.GetFileName)));
        return path;
    }

    public async ValueTask DisposeAsync() => await _browser.DisposeAsync();
}
