using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AdaMerging.Tests.Support;

namespace AdaMerging.Tests.Api;

/// <summary>
/// Language-model tasks through the API and the worker (docs/api.md, "Language-model tasks"): a Llama causal LM with
/// its tokenizer.json, two fine-tuned tasks, prompt datasets uploaded as JSON Lines, AdaMerging with expert_kl per
/// decoder block, and the report's completion table; prompts for a classifier and a malformed prompt file are refused.
/// </summary>
public sealed class LanguageModelServiceTests(ServiceFixture service) : IClassFixture<ServiceFixture>
{
    private static readonly string[] Sayings =
    [
        "A fool and his money are soon parted", "Every cloud has a silver lining", "The early bird catches the worm",
        "Actions speak louder than words", "Fortune favours the bold", "Still waters run deep",
    ];

    private static string Fixture(string task, string file) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "llama_lm", "llama3_causal_lm", task, file);

    [Fact]
    public async Task AdaMerging_with_expert_kl_merges_a_causal_lm_on_prompts_and_reports_each_task_s_perplexity()
    {
        var tokenizer = ("tokenizer.json", await File.ReadAllBytesAsync(LlamaTiny.File("llama3_causal_lm", "tokenizer.json")));
        async Task<string> Checkpoint(string weights, string config) => await TinyService.PostAsync(service, "/checkpoints",
            [("model.safetensors", await File.ReadAllBytesAsync(weights)), ("config.json", await File.ReadAllBytesAsync(config)), tokenizer]);
        var baseId = await Checkpoint(LlamaTiny.File("llama3_causal_lm", "model.safetensors"), LlamaTiny.File("llama3_causal_lm", "config.json"));
        var adaptation = await TinyService.PostAsync(service, "/datasets", ("prompts.jsonl",
            Encoding.UTF8.GetBytes(string.Join('\n', Sayings.Select(s => JsonSerializer.Serialize(new { prompt = s }))))));
        var evaluation = await TinyService.PostAsync(service, "/datasets", ("completions.jsonl",
            Encoding.UTF8.GetBytes(string.Join('\n', Sayings.Select(s => JsonSerializer.Serialize(new { prompt = s[..s.LastIndexOf(' ')], completion = s[s.LastIndexOf(' ')..] }))))));
        var dataset = await service.Client.GetFromJsonAsync<JsonElement>($"/datasets/{evaluation}");
        Assert.Equal(("prompts", true, 6), (dataset.GetProperty("modality").GetString(), dataset.GetProperty("hasLabels").GetBoolean(), dataset.GetProperty("count").GetInt32()));
        var tasks = new List<object>();
        foreach (var t in new[] { "task_a", "task_b" })
            tasks.Add(new { name = t, checkpoint = await Checkpoint(Fixture(t, "model.safetensors"), Fixture(t, "config.json")), adaptationData = adaptation, evaluationData = evaluation });

        using var submitted = await service.Client.PostAsJsonAsync("/merges", new
        {
            method = "adamerging", @base = baseId, tasks,
            options = new { objective = "expert_kl", granularity = "layer", layerUnit = "block", steps = 2, batchSize = 3 },
        });
        Assert.True(submitted.StatusCode == HttpStatusCode.Accepted, await submitted.Content.ReadAsStringAsync());
        var merge = await service.WaitForMergeAsync(submitted.Headers.Location!.ToString(), TimeSpan.FromMinutes(2));
        Assert.True(merge.GetProperty("status").GetString() == "succeeded", merge.ToString());
        var report = await service.Client.GetFromJsonAsync<JsonElement>(merge.GetProperty("links").GetProperty("report").GetString());

        Assert.Equal("expert_kl", report.GetProperty("options").GetProperty("objective").GetString());
        Assert.Empty(report.GetProperty("accuracy").EnumerateArray());
        var completions = report.GetProperty("completions").EnumerateArray().ToList();
        Assert.Equal(["task_a", "task_b"], completions.Select(c => c.GetProperty("task").GetString()));
        foreach (var column in completions.SelectMany(c => new[] { "merged", "base", "individual", "taskArithmetic" }.Select(k => c.GetProperty(k))))
            Assert.True(column.GetProperty("perplexity").GetDouble() > 1 && column.GetProperty("exactMatch").GetDouble() is >= 0 and <= 1, column.ToString());
        // Per decoder block: the embeddings, two blocks, and what follows them (the final norm, lm_head).
        Assert.Equal(4, report.GetProperty("coefficients").GetArrayLength());
        Assert.Equal(2, report.GetProperty("objectivePerStep").GetArrayLength());
    }

    [Fact]
    public async Task Prompts_for_a_classifier_are_refused_at_preflight_and_a_malformed_prompt_file_at_upload()
    {
        var classifier = await TinyService.PostAsync(service, "/checkpoints",
        [
            ("model.safetensors", await File.ReadAllBytesAsync(LlamaTiny.File("llama_classifier", "model.safetensors"))),
            ("config.json", await File.ReadAllBytesAsync(LlamaTiny.File("llama_classifier", "config.json"))),
            ("tokenizer.json", await File.ReadAllBytesAsync(LlamaTiny.File("llama3_causal_lm", "tokenizer.json"))),
        ]);
        var prompts = await TinyService.PostAsync(service, "/datasets", ("p.jsonl", Encoding.UTF8.GetBytes("{\"prompt\": \"Once upon a time\"}\n")));
        using (var response = await service.Client.PostAsJsonAsync("/merges", new
        {
            method = "adamerging", @base = classifier,
            tasks = new[] { new { name = "a", checkpoint = classifier, adaptationData = prompts } },
        }))
        {
            var errors = Problems.Errors(await Problems.ReadAsync(response, HttpStatusCode.UnprocessableEntity));
            Assert.Contains(errors, e => e.Pointer == "/tasks/0/adaptationData" && e.Code == "data_mismatch"
                && e.Detail.Contains("is not a causal language model", StringComparison.Ordinal));
        }
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(Encoding.UTF8.GetBytes("{\"prompt\": \"a\", \"completion\": \"b\"}\n{\"prompt\": \"c\", \"completion\": \"\"}\n")), "file", "bad.jsonl" },
        };
        using var bad = await service.Client.PostAsync("/datasets", form);
        Assert.Contains("line 2: the 'completion' is empty", Problems.Text(await Problems.ReadAsync(bad, HttpStatusCode.BadRequest)), StringComparison.Ordinal);
    }
}
