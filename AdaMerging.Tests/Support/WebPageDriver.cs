using PuppeteerSharp;

namespace AdaMerging.Tests.Support;

/// <summary>What a person does on the service's web page, as steps a test can take (AdaMerging.Api/wwwroot/ui).</summary>
public sealed class WebPageDriver
{
    private readonly IPage page;
    private readonly Uri service;
    private readonly List<string> _console = [];

    public WebPageDriver(IPage page, Uri service)
    {
        this.page = page;
        this.service = service;
        page.Console += (_, e) => { lock (_console) _console.Add($"{e.Message.Type}: {e.Message.Text}"); };
        page.PageError += (_, e) => { lock (_console) _console.Add($"page error: {e.Message}"); };
    }

    public IPage Page => page;

    public async Task OpenAsync(string hash = "")
    {
        var response = await page.GoToAsync(new Uri(service, "/ui/" + hash).ToString(), WaitUntilNavigation.Networkidle0);
        Assert.True(response.Ok || response.Status == System.Net.HttpStatusCode.NotModified, $"/ui/ answered {response.Status}");
    }

    public async Task SignInAsync(string key)
    {
        await page.WaitForSelectorAsync("#api-key", new WaitForSelectorOptions { Visible = true });
        await page.TypeAsync("#api-key", key);
        await page.ClickAsync("#sign-in button[type=submit]");
    }

    public async Task GoAsync(string hash, string readySelector)
    {
        await page.EvaluateExpressionAsync($"location.hash = {System.Text.Json.JsonSerializer.Serialize(hash)}");
        await WaitAsync(readySelector);
    }

    public Task<IElementHandle> WaitAsync(string selector, int seconds = 30) =>
        Explained(page.WaitForSelectorAsync(selector, new WaitForSelectorOptions { Visible = true, Timeout = seconds * 1000 }), selector);

    public Task WaitUntilAsync(string condition, int seconds = 30) =>
        Explained(page.WaitForExpressionAsync(condition, new WaitForFunctionOptions { Timeout = seconds * 1000, PollingInterval = 100 }), condition);

    /// <summary>A wait that fails says what the page showed instead (its address and text).</summary>
    private async Task<T> Explained<T>(Task<T> wait, string what)
    {
        try
        {
            return await wait;
        }
        catch (WaitTaskTimeoutException e)
        {
            var shown = await page.EvaluateExpressionAsync<string>("location.hash + '\\n' + document.body.innerText");
            string console;
            lock (_console) console = string.Join("\n", _console);
            throw new WaitTaskTimeoutException($"waited in vain for {what}; the page at {shown}\nits console:\n{console}", e);
        }
    }

    public Task<T> EvalAsync<T>(string expression) => page.EvaluateExpressionAsync<T>(expression);

    /// <summary>Uploads files through a resource's form (kind: checkpoint, head, dataset) and waits for its row.</summary>
    public async Task<string> UploadAsync(string kind, string name, params string[] files)
    {
        var input = await WaitAsync($"#upload-{kind}");
        await input.UploadFileAsync(files);
        await page.EvaluateExpressionAsync($"document.getElementById('upload-{kind}-name').value = {System.Text.Json.JsonSerializer.Serialize(name)}");
        await page.ClickAsync($"#upload-{kind} ~ button[type=submit]");
        var section = kind == "checkpoint" ? "checkpoints" : kind + "s";
        var row = $"Array.from(document.querySelectorAll('#{section} tbody tr')).find(r => r.querySelector('.name').textContent === {System.Text.Json.JsonSerializer.Serialize(name)})";
        await WaitUntilAsync($"{row} !== undefined || document.querySelector('#{section} .message.error:not([hidden])') !== null", 120);
        var error = await EvalAsync<string?>($"document.querySelector('#{section} .message.error:not([hidden])')?.textContent ?? null");
        Assert.True(error is null, $"the {kind} upload failed on the page: {error}");
        return await EvalAsync<string>($"{row}.dataset.id");
    }

    public Task SelectAsync(string selector, string value) => page.SelectAsync(selector, value);

    public async Task TypeIntoAsync(string selector, string text)
    {
        await page.EvaluateExpressionAsync($"document.querySelector({System.Text.Json.JsonSerializer.Serialize(selector)}).value = ''");
        await page.TypeAsync(selector, text);
    }

    /// <summary>Fills the new-merge form's base and tasks (task i: checkpoint, head, adaptation and evaluation data), adding rows as needed.</summary>
    public async Task FillMergeAsync(string method, string baseId, IReadOnlyList<(string Checkpoint, string Head, string Data)> tasks)
    {
        await GoAsync("#/new", "#merge-form");
        await SelectAsync("#method", method);
        await SelectAsync("#base", baseId);
        var rows = await EvalAsync<string[]>("Array.from(document.querySelectorAll('fieldset.task')).map(f => f.querySelector('select').id.replace('-checkpoint', ''))");
        for (int i = 0; i < tasks.Count; i++)
        {
            var prefix = rows[i];
            await SelectAsync($"#{prefix}-checkpoint", tasks[i].Checkpoint);
            await SelectAsync($"#{prefix}-head", tasks[i].Head);
            await SelectAsync($"#{prefix}-adaptation", tasks[i].Data);
            await SelectAsync($"#{prefix}-evaluation", tasks[i].Data);
        }
    }
}
