using AdaMerging.Tests.Support;
using PuppeteerSharp;
using SkiaSharp;

namespace AdaMerging.Tests.Api;

/// <summary>
/// The OpenAPI page in a real browser (Debian's chromium, headless, driven by PuppeteerSharp; nothing is downloaded):
/// it loads, shows the Authorize button and the merge operations, and a screenshot of it is kept (issue 15).
/// </summary>
public sealed class SwaggerPageTests(ServiceFixture service) : TempDirectoryTests, IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task The_swagger_page_loads_in_headless_chromium_with_the_Authorize_button_and_the_merge_operations()
    {
        await using (var session = await WebPageSession.StartAsync(service, Dir, "swagger-viewer"))
        {
            var client = session.Client;
            await using var page = await session.Browser.NewPageAsync(width: 1400, height: 1000);
            var response = await page.GoToAsync(client.BaseAddress + "swagger/index.html", WaitUntilNavigation.Networkidle0);
            Assert.True(response.Ok, $"/swagger answered {response.Status}");
            var authorize = await page.WaitForSelectorAsync("button.authorize", new WaitForSelectorOptions { Visible = true, Timeout = 30_000 });
            Assert.NotNull(authorize);
            Assert.Contains("Authorize", await authorize.EvaluateFunctionAsync<string>("e => e.textContent"), StringComparison.Ordinal);
            var paths = await page.EvaluateFunctionAsync<string[]>(
                "() => [...document.querySelectorAll('.opblock-summary-path')].map(e => e.textContent.replace(/\\u200b/g, ''))");
            Assert.Contains("/merges", paths);
            Assert.Contains("/merges/{id}", paths);
            Assert.Contains("/merges/{id}/cancel", paths);
            Assert.Contains("/uploads/{id}", paths);

            var screenshot = await page.ScreenshotDataAsync(new ScreenshotOptions { FullPage = true });
            var saved = await TestArtifacts.SaveAsync("swagger.png", screenshot);
            using var image = SKBitmap.Decode(saved);
            Assert.Equal(1400, image.Width);
            // The whole page is captured: the Authorize button and the merge operations lie inside it.
            var box = await authorize.BoundingBoxAsync();
            Assert.True(box is not null && box.Y + box.Height <= image.Height, "the Authorize button is outside the screenshot");
            var merges = await page.QuerySelectorAllAsync(".opblock-tag-section .opblock");
            var submit = await page.QuerySelectorAsync("#operations-Merges-submitMerge"); // Swagger UI names operations by their operationId
            var submitBox = submit is null ? null : await submit.BoundingBoxAsync();
            Assert.True(submitBox is not null && submitBox.Y + submitBox.Height <= image.Height,
                "the merge submission is outside the screenshot; operations: "
                + string.Join(", ", await Task.WhenAll(merges.Select(m => m.EvaluateFunctionAsync<string>("e => e.id")))));
        }
    }
}
