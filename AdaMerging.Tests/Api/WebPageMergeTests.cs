using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using AdaMerging.Infrastructure.Jobs;
using AdaMerging.Tests.Support;
using PuppeteerSharp;

namespace AdaMerging.Tests.Api;

/// <summary>
/// The web page in a real browser (Debian's chromium, headless) against the real API process, worker and PostgreSQL:
/// a person signs in, uploads everything a merge needs, runs layer-wise AdaMerging and watches it learn, reads the
/// results and downloads the model; and cancels a merge from its page (issue 19). Screenshots: test-artifacts/web-*.png.
/// </summary>
public sealed class WebPageMergeTests(ServiceFixture service) : TempDirectoryTests, IClassFixture<ServiceFixture>
{
    // Records, across views, every value the step counter showed and every status line (survives re-rendering).
    private const string Recorder = """
        window.__steps = []; window.__texts = [];
        new MutationObserver(() => {
          const step = document.getElementById('step')?.textContent;
          if (step !== undefined && window.__steps[window.__steps.length - 1] !== step) window.__steps.push(step);
          document.querySelectorAll('[role=status]').forEach(e => { if (e.textContent) window.__texts.push(e.textContent); });
        }).observe(document.body, { subtree: true, childList: true, characterData: true });
        """;

    private string Folder(string name, params (string Name, string Source)[] files)
    {
        var folder = Dir.File(name);
        Directory.CreateDirectory(folder);
        foreach (var (fileName, source) in files) File.Copy(source, Path.Combine(folder, fileName));
        return folder;
    }

    private static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    [Fact]
    public async Task A_person_uploads_through_a_dropped_connection_merges_layer_wise_watches_it_learn_reads_the_results_and_downloads_the_model()
    {
        await using (var session = await WebPageSession.StartAsync(service, Dir, "web-person"))
        {
            var (_, client, browser, _) = session;
            var errors = new List<string>();
            var web = await session.SignedInAsync(consoleErrors: errors);
            await web.WaitAsync("#merges");
            await web.Page.EvaluateExpressionAsync(Recorder);

            // The base's first PATCH is cut off: the page asks the server where it stands (HEAD) and goes on.
            var cut = 0;
            var interceptionFailures = new List<string>();
            async void Intercept(object? sender, RequestEventArgs e) // an event handler: it must not throw
            {
                try
                {
                    if (e.Request.Method == HttpMethod.Patch && Interlocked.Exchange(ref cut, 1) == 0) await e.Request.AbortAsync();
                    else await e.Request.ContinueAsync();
                }
                catch (PuppeteerException failure)
                {
                    lock (interceptionFailures) interceptionFailures.Add(failure.Message);
                }
            }
            await web.Page.SetRequestInterceptionAsync(true);
            web.Page.Request += Intercept;
            await web.GoAsync("#/resources", "#upload-checkpoint");
            var config = ClipTiny.File("config.json");
            var baseFolder = Folder("base", ("model.safetensors", ClipTiny.File("model.safetensors")), ("config.json", config));
            var baseId = await web.UploadAsync("checkpoint", "pre-trained", Path.Combine(baseFolder, "model.safetensors"), Path.Combine(baseFolder, "config.json"));
            Assert.Equal(1, cut);
            Assert.Contains(await web.EvalAsync<string[]>("window.__texts"), t => t.Contains("connection lost", StringComparison.Ordinal));
            web.Page.Request -= Intercept;
            await web.Page.SetRequestInterceptionAsync(false);
            Assert.Empty(interceptionFailures);

            var files = TinyService.TaskFiles(Dir, tasks: 2, seed: 19);
            var tasks = new List<(string Checkpoint, string Head, string Data)>();
            var headId = await web.UploadAsync("head", "tiny head", ClipTiny.File("head.safetensors"));
            for (int k = 0; k < 2; k++)
            {
                var folder = Folder($"task{k}", ("model.safetensors", files[k].Model), ("config.json", config));
                tasks.Add((await web.UploadAsync("checkpoint", $"fine-tuned {k}", Path.Combine(folder, "model.safetensors"), Path.Combine(folder, "config.json")),
                    headId, await web.UploadAsync("dataset", $"images {k}", files[k].Data)));
            }
            // The lists show what the API holds: the base's weights digest, the head's and datasets' own.
            var baseShown = await web.EvalAsync<string>($"document.querySelector('#checkpoints tr[data-id=\"{baseId}\"] .sha').title");
            Assert.Equal(Sha256(Path.Combine(baseFolder, "model.safetensors")), baseShown);
            Assert.Equal(Sha256(files[1].Data), await web.EvalAsync<string>($"document.querySelector('#datasets tr[data-id=\"{tasks[1].Data}\"] .sha').title"));

            await web.FillMergeAsync("adamerging", baseId, tasks);
            await web.SelectAsync("#option-granularity", "layer");
            await web.TypeIntoAsync("#option-steps", "200");
            await web.Page.ClickAsync("#merge-form button[type=submit]");
            await web.WaitAsync("#results", 240);
            var mergeId = await web.EvalAsync<string>("location.hash.split('/')[2]");

            // The counter advanced live: several values, rising, up to the last step.
            var steps = (await web.EvalAsync<string[]>("window.__steps")).Where(s => int.TryParse(s, out _)).Select(int.Parse).ToList();
            Assert.True(steps.Distinct().Count() >= 3, $"the step counter showed only {string.Join(", ", steps)}");
            Assert.Equal(steps.OrderBy(s => s), steps);
            Assert.InRange(steps[^1], 190, 200);

            var report = await client.GetFromJsonAsync<JsonElement>($"/merges/{mergeId}/report");
            var shown = await web.EvalAsync<string[][]>("Array.from(document.querySelectorAll('#accuracy tbody tr')).map(r => Array.from(r.children).map(c => c.textContent))");
            var accuracy = report.GetProperty("accuracy").EnumerateArray().ToList();
            Assert.Equal(accuracy.Count + 1, shown.Length);
            for (int k = 0; k < accuracy.Count; k++)
            {
                Assert.Equal(accuracy[k].GetProperty("task").GetString(), shown[k][0]);
                Assert.Equal((100 * accuracy[k].GetProperty("merged").GetDouble()).ToString("F1", System.Globalization.CultureInfo.InvariantCulture), shown[k][1]);
            }
            Assert.Equal("Average", shown[^1][0]);

            // The heatmap: one cell per layer and task, each naming its layer on hover; the objective curve: one point per step.
            var layers = report.GetProperty("coefficients").EnumerateArray().Select(c => c.GetProperty("layer").GetString()!).ToList();
            Assert.Equal(layers.Count * 2, await web.EvalAsync<int>("document.querySelectorAll('svg.heatmap rect.cell').length"));
            await web.Page.HoverAsync("svg.heatmap rect.cell:nth-of-type(3)");
            var hovered = await web.EvalAsync<string>("document.querySelector('.hover-label').textContent");
            Assert.Contains(layers, l => hovered.StartsWith(l + " · ", StringComparison.Ordinal));
            var points = await web.EvalAsync<int>("document.querySelector('#objective-curve polyline').getAttribute('points').trim().split(' ').length");
            Assert.Equal(report.GetProperty("objectivePerStep").GetArrayLength(), points);
            await web.WaitAsync("#model-card h3");

            await web.Page.ClickAsync("#downloads button[data-file='model.safetensors']");
            var downloaded = await browser.DownloadedAsync("model.safetensors", TimeSpan.FromSeconds(60));
            var merge = await client.GetFromJsonAsync<JsonElement>($"/merges/{mergeId}");
            var apiSha = merge.GetProperty("files").EnumerateArray().Single(f => f.GetProperty("fileName").GetString() == "model.safetensors").GetProperty("sha256").GetString();
            Assert.Equal(apiSha, Sha256(downloaded));
            Assert.Equal(apiSha, Convert.ToHexStringLower(SHA256.HashData(await client.GetByteArrayAsync($"/merges/{mergeId}/model"))));

            await HeadlessChromium.ScreenshotAsync(web.Page, "web-merge-results.png");
            // The one error in the console is the PATCH this test cut off.
            Assert.Single(errors, e => e.Contains("net::ERR_FAILED", StringComparison.Ordinal) && e.Contains("/uploads/", StringComparison.Ordinal));
            Assert.Single(errors);
        }
    }

    [Fact]
    public async Task A_second_merge_is_cancelled_from_its_page_and_deleting_its_base_meanwhile_is_refused_in_words()
    {
        var inputs = await TinyService.UploadAsync(service, Dir, tasks: 2, seed: 23);
        await using (var session = await WebPageSession.StartAsync(service, Dir, "alice")) // the owner of what TinyService uploaded
        {
            var (_, client, browser, _) = session;
            var errors = new List<string>();
            var web = await session.SignedInAsync(consoleErrors: errors);
            await web.WaitAsync("#merges");
            await web.FillMergeAsync("adamerging", inputs.Base, [.. inputs.Tasks.Select(t => (t.Checkpoint, inputs.Head, t.Data))]);
            await web.TypeIntoAsync("#option-steps", "100000");
            await web.Page.ClickAsync("#merge-form button[type=submit]");
            await web.WaitAsync("#cancel");
            using var stopIfFailed = new MergeCanceller(client, await web.EvalAsync<string>("location.hash.split('/')[2]"));
            await web.WaitUntilAsync("Number(document.getElementById('step')?.textContent) > 0", 120); // running, not just queued
            var mergeId = await web.EvalAsync<string>("location.hash.split('/')[2]");
            await web.WaitUntilAsync("document.querySelector('svg.chart polyline') !== null", 60); // the objective drawn as it falls
            await HeadlessChromium.ScreenshotAsync(web.Page, "web-merge-running.png");
            // Leaving the page stops following it; coming back follows it again, and the list stays what it was meanwhile.
            await web.GoAsync("#/merges", "#merges");
            // The merge goes on producing events meanwhile (the control: there is something the left page could react to).
            async Task<int> Step() => (await client.GetFromJsonAsync<JsonElement>($"/merges/{mergeId}")).GetProperty("progress").GetProperty("step").GetInt32();
            int left = await Step();
            await Poll.UntilAsync(async () => await Step() > left + ProgressWriter.ObjectiveEventSteps, TimeSpan.FromSeconds(60),
                () => "the merge made no progress after its page was left");
            Assert.Equal("#/merges", await web.EvalAsync<string>("location.hash"));
            Assert.Null(await web.EvalAsync<string?>("document.getElementById('cancel')?.id ?? null"));
            await web.GoAsync($"#/merges/{mergeId}", "#cancel");
            await web.WaitUntilAsync("Number(document.getElementById('step')?.textContent) > 0", 60);

            // Meanwhile, in another tab, deleting the base is refused in words naming the merge.
            var other = await session.SignedInAsync("#/resources", consoleErrors: errors); // the key is kept per tab
            other.Page.Dialog += async (_, e) => await e.Dialog.Accept(); // "Delete checkpoint …?"
            await other.WaitAsync($"#checkpoints tr[data-id='{inputs.Base}'] button");
            await other.Page.ClickAsync($"#checkpoints tr[data-id='{inputs.Base}'] button");
            await other.WaitAsync($"#checkpoints tr[data-id='{inputs.Base}'] .message.error");
            var refusal = await other.EvalAsync<string>($"document.querySelector(\"#checkpoints tr[data-id='{inputs.Base}'] .message\").textContent");
            Assert.Contains(mergeId, refusal, StringComparison.Ordinal);
            Assert.Contains("used by queued or running merge", refusal, StringComparison.Ordinal);
            await HeadlessChromium.ScreenshotAsync(other.Page, "web-delete-refused.png");
            errors.RemoveAll(e => e.Contains("409", StringComparison.Ordinal)); // the browser logs the refused DELETE
            await other.Page.CloseAsync();
            await web.Page.BringToFrontAsync(); // a tab behind another does not render, so a click on it would wait

            await web.Page.ClickAsync("#cancel");
            await web.WaitAsync("#cancelled", 60);
            var merge = await client.GetFromJsonAsync<JsonElement>($"/merges/{mergeId}");
            Assert.Equal("cancelled", merge.GetProperty("status").GetString());
            Assert.Equal("cancelled", await web.EvalAsync<string>("document.getElementById('status').textContent"));
            await HeadlessChromium.ScreenshotAsync(web.Page, "web-merge-cancelled.png");

            // The list filtered as the API filters: only cancelled merges, this one among them.
            await web.GoAsync("#/merges?status=cancelled", "#merges");
            await web.WaitUntilAsync("document.querySelectorAll('#merges tbody tr').length > 0");
            var listed = await web.EvalAsync<string[][]>("Array.from(document.querySelectorAll('#merges tbody tr')).map(r => [r.dataset.id, r.dataset.status])");
            Assert.All(listed, row => Assert.Equal("cancelled", row[1]));
            Assert.Contains(listed, row => row[0] == mergeId);
            Assert.Empty(errors);
        }
    }

    /// <summary>Cancels the test's long merge when the test fails before the page did, so the worker is free for the next.</summary>
    private sealed class MergeCanceller(HttpClient client, string mergeId) : IDisposable
    {
        public void Dispose() => client.PostAsync($"/merges/{mergeId}/cancel", null).GetAwaiter().GetResult().Dispose();
    }
}
