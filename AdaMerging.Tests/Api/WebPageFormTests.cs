using System.Net.Http.Json;
using AdaMerging.Tests.Support;
using TorchSharp;

namespace AdaMerging.Tests.Api;

/// <summary>
/// The web page's refusals and reach, in a real browser against the real API: a wrong key, the service's pre-flight
/// problems beside the fields they concern, and every control labelled, reachable by keyboard and usable in a narrow
/// window (issue 19). Screenshots: test-artifacts/web-*.png.
/// </summary>
public sealed class WebPageFormTests(ServiceFixture service) : TempDirectoryTests, IClassFixture<ServiceFixture>
{
    // Form controls without an accessible name (no label, aria-label or text), as "tag#id".
    private const string Unlabelled = """
        Array.from(document.querySelectorAll('main input, main select, main textarea, main button, nav a, nav button'))
          .filter(e => !(e.labels?.length || e.getAttribute('aria-label') || e.textContent.trim()))
          .map(e => e.tagName.toLowerCase() + '#' + e.id)
        """;

    [Fact]
    public async Task A_wrong_key_is_refused_in_words_and_pre_flight_problems_appear_beside_their_fields()
    {
        var inputs = await TinyService.UploadAsync(service, Dir, tasks: 2, seed: 29);
        var narrowHead = Dir.File("narrow-head.safetensors"); // 7 features where the encoder gives more
        TestCheckpoints.Save(narrowHead, new Dictionary<string, torch.Tensor> { ["weight"] = torch.randn(5, 7) });
        var wrongHead = await TinyService.PostAsync(service, "/heads", ("narrow-head.safetensors", await File.ReadAllBytesAsync(narrowHead)));
        await using (var session = await WebPageSession.StartAsync(service, Dir, "alice"))
        {
            var (secret, client, browser, _) = session;
            var web = new WebPageDriver(await browser.NewPageAsync(), client.BaseAddress!);
            await web.OpenAsync();
            await web.SignInAsync("am_thisisnotakey0000000000000000");
            await web.WaitUntilAsync("document.getElementById('sign-in-message')?.textContent.includes('not accepted')");
            Assert.Null(await web.EvalAsync<string?>("sessionStorage.getItem('adamerging.key')"));
            await HeadlessChromium.ScreenshotAsync(web.Page, "web-wrong-key.png");

            await web.TypeIntoAsync("#api-key", secret);
            await web.Page.ClickAsync("#sign-in button[type=submit]");
            await web.WaitAsync("#merges");
            await web.FillMergeAsync("adamerging", inputs.Base,
                [(inputs.Tasks[0].Checkpoint, inputs.Head, inputs.Tasks[0].Data), (inputs.Tasks[1].Checkpoint, wrongHead, inputs.Tasks[1].Data)]);
            // AdaMerging's key options show; its other 24 wait under "More options", each with its own method's help.
            Assert.True(await web.EvalAsync<bool>("document.getElementById('option-steps').checkVisibility()"));
            Assert.False(await web.EvalAsync<bool>("document.getElementById('option-beta1').checkVisibility()"), "a folded option shows");
            Assert.Equal("The seed of each task's batch sampling.", await web.EvalAsync<string>("document.getElementById('option-seed-help').textContent"));

            // The request's own problems first (400): out of range, shown under each option, a folded one unfolded.
            await web.Page.EvaluateExpressionAsync("document.querySelector('details.more-options').open = true");
            await web.TypeIntoAsync("#option-beta1", "5");
            await web.Page.EvaluateExpressionAsync("document.querySelector('details.more-options').open = false");
            await web.TypeIntoAsync("#option-steps", "200000");
            await web.Page.ClickAsync("#merge-form button[type=submit]");
            await web.WaitAsync("#option-steps-error");
            Assert.Contains("options.steps", await web.EvalAsync<string>("document.getElementById('option-steps-error').textContent"), StringComparison.Ordinal);
            Assert.Equal("true", await web.EvalAsync<string>("document.getElementById('option-steps').getAttribute('aria-invalid')"));
            await web.WaitUntilAsync("document.getElementById('option-beta1-error').checkVisibility()"); // its fold opened to show it

            // Then the inputs' (422, pre-flight): the second task's head, shown in that task.
            await web.TypeIntoAsync("#option-beta1", "0.9");
            await web.TypeIntoAsync("#option-steps", "5");
            await web.Page.ClickAsync("#merge-form button[type=submit]");
            await web.WaitUntilAsync("document.querySelectorAll('fieldset.task')[1].querySelector('.field-error:not([hidden])') !== null");
            var second = await web.EvalAsync<string>("document.querySelectorAll('fieldset.task')[1].querySelector('.field-error').textContent");
            Assert.Contains("head takes 7 features", second, StringComparison.Ordinal);
            Assert.Equal("true", await web.EvalAsync<string>("document.querySelectorAll('fieldset.task')[1].querySelector('select[id$=\"-head\"]').getAttribute('aria-invalid')"));
            Assert.True(await web.EvalAsync<bool>("document.getElementById('option-steps-error').hidden"), "the fixed option still shows its old problem");
            Assert.True(await web.EvalAsync<bool>("document.querySelectorAll('fieldset.task')[0].querySelector('.field-error').hidden"));
            Assert.Equal("#/new", await web.EvalAsync<string>("location.hash")); // nothing was queued
            await HeadlessChromium.ScreenshotAsync(web.Page, "web-preflight-problem.png");
        }
    }

    [Fact]
    public async Task Every_control_is_labelled_reachable_by_keyboard_and_fits_a_narrow_window()
    {
        await TinyService.UploadAsync(service, Dir, tasks: 1, seed: 31); // the form's lists are not empty
        await using (var session = await WebPageSession.StartAsync(service, Dir, "alice"))
        {
            foreach (var width in new[] { 1280, 390 })
            {
                var errors = new List<string>();
                var web = await session.SignedInAsync(width: width, height: 844, consoleErrors: errors);
                foreach (var (hash, ready) in new[] { ("#/merges", "#merges"), ("#/resources", "#upload-dataset"), ("#/new", "#merge-form") })
                {
                    await web.GoAsync(hash, ready);
                    await web.WaitUntilAsync("!document.querySelector('main [role=status]')?.textContent.startsWith('Loading')");
                    Assert.Empty(await web.EvalAsync<string[]>(Unlabelled));
                    var overflow = await web.EvalAsync<int>("document.documentElement.scrollWidth - window.innerWidth");
                    Assert.True(overflow <= 0, $"{hash} at {width} px is {overflow} px wider than the window");
                    await HeadlessChromium.ScreenshotAsync(web.Page, $"web-{hash[2..]}-{width}.png");
                }
                // From the method selector, Tab alone reaches the submit button.
                await web.Page.FocusAsync("#method");
                var reached = false;
                for (int i = 0; i < 80 && !reached; i++)
                {
                    await web.Page.Keyboard.PressAsync("Tab");
                    reached = await web.EvalAsync<bool>("document.activeElement?.matches('#merge-form button[type=submit]') ?? false");
                }
                Assert.True(reached, $"Tab never reached the submit button at {width} px");
                Assert.True(errors.Count == 0, string.Join("\n", errors));
            }
        }
    }

    [Fact]
    public async Task A_zero_shot_head_built_from_class_names_on_the_form_is_chosen_for_its_task()
    {
        var files = ClipText.HuggingFaceFiles(); // a full CLIP with its text tower and tokenizer
        var baseId = await TinyService.PostAsync(service, "/checkpoints", [.. await Task.WhenAll(files.Select(async f => (f.Key, await File.ReadAllBytesAsync(f.Value))))]);
        await using (var session = await WebPageSession.StartAsync(service, Dir, "alice"))
        {
            var client = session.Client;
            var web = await session.SignedInAsync("#/new");
            await web.WaitAsync("#merge-form");
            await web.SelectAsync("#base", baseId);
            await web.Page.ClickAsync("fieldset.task .zero-shot-open");
            await web.WaitAsync("#task-0-head-zs-classes");
            await web.Page.TypeAsync("#task-0-head-zs-classes", "stop\nspeed limit (30km/h)\nno entry");
            await web.SelectAsync("#task-0-head-zs-templates", "gtsrb");
            await web.Page.ClickAsync("#task-0-head-zs-build");
            await web.WaitUntilAsync("document.getElementById('task-0-head').value !== ''", 60);
            var headId = await web.EvalAsync<string>("document.getElementById('task-0-head').value");
            var head = await client.GetFromJsonAsync<System.Text.Json.JsonElement>($"/heads/{headId}");
            Assert.Equal(["stop", "speed limit (30km/h)", "no entry"], head.GetProperty("classNames").EnumerateArray().Select(c => c.GetString()));
            Assert.Equal(24, head.GetProperty("featureSize").GetInt32());
            // The second task's list offers it too.
            Assert.True(await web.EvalAsync<bool>($"Array.from(document.getElementById('task-1-head').options).some(o => o.value === '{headId}')"));
            await HeadlessChromium.ScreenshotAsync(web.Page, "web-zero-shot-head.png");
        }
    }

    [Fact]
    public async Task A_text_dataset_is_described_as_texts_and_offered_to_every_task_as_text()
    {
        await using var session = await WebPageSession.StartAsync(service, Dir, "alice");
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent("{\"text\": \"a fine day\", \"label\": 1}\n{\"text\": \"rain again\", \"label\": 0}\n{\"text\": \"sun\", \"label\": 1}\n"u8.ToArray()), "file", "reviews.jsonl" },
        };
        using var uploaded = await session.Client.PostAsync("/datasets", form);
        var id = (await uploaded.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("id").GetString()!;
        var web = await session.SignedInAsync("#/resources");
        var row = $"document.querySelector('#datasets tr[data-id=\"{id}\"]')";
        await web.WaitUntilAsync($"{row} !== null");
        Assert.Contains("3 texts", await web.EvalAsync<string>($"{row}.textContent"), StringComparison.Ordinal);

        await web.GoAsync("#/new", "#merge-form");
        foreach (var role in new[] { "adaptation", "evaluation" })
            Assert.Equal($"reviews.jsonl (text, {id[..8]})", await web.EvalAsync<string>(
                $"Array.from(document.getElementById('task-0-{role}').options).find(o => o.value === '{id}')?.textContent ?? ''"));
        await HeadlessChromium.ScreenshotAsync(web.Page, "web-text-dataset.png");
    }
}
