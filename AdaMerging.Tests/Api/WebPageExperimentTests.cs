using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AdaMerging.Tests.Support;

namespace AdaMerging.Tests.Api;

/// <summary>
/// An experiment on the web page in a real browser (Debian's chromium, headless) against the real API process, worker
/// and PostgreSQL: the list links it, its page shows the comparison table with the baselines once and each
/// configuration's row, the plot, and the CSV and Markdown downloads. Screenshot: test-artifacts/web-experiment.png.
/// </summary>
public sealed class WebPageExperimentTests(ServiceFixture service) : TempDirectoryTests, IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task A_person_follows_an_experiment_to_its_table_and_plot()
    {
        await using var session = await WebPageSession.StartAsync(service, Dir, "web-experiment");
        var inputs = await TinyService.UploadAsync(session.Client, Dir, tasks: 2, seed: 43);
        using var submitted = await session.Client.PostAsJsonAsync("/experiments", new
        {
            name = "two methods on two tasks",
            @base = inputs.Base,
            tasks = inputs.TaskJson(),
            methods = new object[] { new { method = "task_arithmetic" }, new { method = "tsv", label = "TSV-M" } },
        });
        Assert.True(submitted.StatusCode == HttpStatusCode.Accepted, await submitted.Content.ReadAsStringAsync());
        var id = (await submitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();

        var errors = new List<string>();
        var web = await session.SignedInAsync(consoleErrors: errors);
        await web.GoAsync("#/experiments", "#experiments");
        await web.WaitUntilAsync($"document.querySelector('#experiments tr[data-id=\"{id}\"] a')?.textContent === 'two methods on two tasks'");
        await web.GoAsync($"#/experiments/{id}", "#comparison");
        // The page refreshes itself until both merges have finished.
        await web.WaitUntilAsync("document.getElementById('experiment-status')?.textContent === 'succeeded'", seconds: 180);
        await web.WaitUntilAsync("document.getElementById('comparison-plot')?.naturalWidth > 0");
        var rows = await web.Page.EvaluateExpressionAsync<string[]>("Array.from(document.querySelectorAll('#comparison tbody th')).map(t => t.textContent.trim())");
        Assert.Equal(["pre-trained", "individual (fine-tuned)", "task arithmetic (λ 0.3)", "task_arithmetic", "TSV-M"], rows);
        var cells = await web.Page.EvaluateExpressionAsync<string[]>("Array.from(document.querySelectorAll('#comparison tbody tr:last-child td')).map(t => t.textContent)");
        Assert.All(cells.Take(3), c => Assert.Matches(@"^\d+\.\d$", c));   // two tasks and the average, in percent
        Assert.Equal(["csv", "md"], await web.Page.EvaluateExpressionAsync<string[]>(
            "Array.from(document.querySelectorAll('button[data-file]')).map(b => b.dataset.file.split('.').pop())"));
        await HeadlessChromium.ScreenshotAsync(web.Page, "web-experiment.png");
        Assert.Empty(errors);
    }
}
