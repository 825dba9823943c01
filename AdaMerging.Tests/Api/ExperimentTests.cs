using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AdaMerging.Tests.Support;
using Microsoft.EntityFrameworkCore;

namespace AdaMerging.Tests.Api;

/// <summary>
/// POST /experiments through the real service (PostgreSQL, queue, worker): several configurations on one set of
/// inputs run as ordinary merges and answer one comparison, as JSON, CSV, Markdown and a plot (docs/api.md, "Experiments").
/// </summary>
public sealed class ExperimentTests(ServiceFixture service) : TempDirectoryTests, IClassFixture<ServiceFixture>
{
    private static object[] Methods() =>
    [
        new { method = "task_arithmetic", options = new { lambda = 0.5 } },
        new { method = "tsv" },
        new { method = "adarank", label = "AdaRank, 2 steps", options = new { steps = 2, batchSize = 4, learningRate = 0.05 } },
    ];

    private async Task<JsonElement> FinishedAsync(string location)
    {
        JsonElement experiment = default;
        await Poll.UntilAsync(async () =>
        {
            experiment = await service.Client.GetFromJsonAsync<JsonElement>(location);
            return experiment.GetProperty("status").GetString() is not ("queued" or "running");
        }, TimeSpan.FromMinutes(3), () => $"the experiment did not finish: {experiment}", everyMilliseconds: 250);
        return experiment;
    }

    [Fact]
    public async Task Three_configurations_run_as_ordinary_merges_and_answer_one_table_with_the_baselines_once()
    {
        var inputs = await TinyService.UploadAsync(service, Dir, tasks: 2, seed: 41);
        using var submitted = await service.Client.PostAsJsonAsync("/experiments", new { @base = inputs.Base, tasks = inputs.TaskJson(), methods = Methods() });
        Assert.True(submitted.StatusCode == HttpStatusCode.Accepted, await submitted.Content.ReadAsStringAsync());
        var experiment = await FinishedAsync(submitted.Headers.Location!.ToString());

        Assert.Equal("succeeded", experiment.GetProperty("status").GetString());
        var runs = experiment.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal(["task_arithmetic", "tsv", "AdaRank, 2 steps"], runs.Select(r => r.GetProperty("label").GetString()));
        var comparison = experiment.GetProperty("comparison");
        Assert.Equal("accuracy", comparison.GetProperty("metric").GetString());
        var rows = comparison.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(["pre-trained", "individual (fine-tuned)", "task arithmetic (λ 0.3)", "task_arithmetic", "tsv", "AdaRank, 2 steps"],
            rows.Select(r => r.GetProperty("label").GetString()));
        for (int i = 0; i < runs.Count; i++)
        {
            var merge = await service.Client.GetFromJsonAsync<JsonElement>(runs[i].GetProperty("merge").GetString());
            Assert.Equal(experiment.GetProperty("id").GetString(), merge.GetProperty("metadata").GetProperty("experiment").GetString());
            var report = await service.Client.GetFromJsonAsync<JsonElement>(merge.GetProperty("links").GetProperty("report").GetString());
            var accuracy = report.GetProperty("accuracy").EnumerateArray().ToList();
            Assert.Equal(accuracy.Select(a => a.GetProperty("merged").GetDouble()), rows[3 + i].GetProperty("tasks").EnumerateArray().Select(v => v.GetDouble()));
            // Every run reports the same baselines (the second and third read them from the first's evaluation).
            Assert.Equal(accuracy.Select(a => a.GetProperty("base").GetDouble()), rows[0].GetProperty("tasks").EnumerateArray().Select(v => v.GetDouble()));
            Assert.True(rows[3 + i].GetProperty("mergeSeconds").GetDouble() >= 0);
        }
        Assert.Equal(3 * 2, Directory.GetFiles(Path.Combine(service.DataRoot, "baselines"), "*.json").Length);   // base, individual, task arithmetic per task

        string csv = await service.Client.GetStringAsync(experiment.GetProperty("links").GetProperty("csv").GetString());
        var lines = csv.TrimEnd('\n').Split('\n');
        Assert.Equal(7, lines.Length);
        Assert.StartsWith("row,method,merge_id,status,", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("\"AdaRank, 2 steps\",adarank,", lines[6], StringComparison.Ordinal);
        string markdown = await service.Client.GetStringAsync(experiment.GetProperty("links").GetProperty("markdown").GetString());
        Assert.Contains("| AdaRank, 2 steps |", markdown, StringComparison.Ordinal);
        var png = await service.Client.GetByteArrayAsync(experiment.GetProperty("links").GetProperty("plot").GetString());
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png.Take(4));

        var list = await service.Client.GetFromJsonAsync<JsonElement>("/experiments?limit=5");
        Assert.Contains(list.GetProperty("data").EnumerateArray(), e => e.GetProperty("id").GetString() == experiment.GetProperty("id").GetString());

        // Forgetting the experiment leaves its merges as ordinary merges.
        using var deleted = await service.Client.DeleteAsync(experiment.GetProperty("links").GetProperty("self").GetString());
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        using var gone = await service.Client.GetAsync(experiment.GetProperty("links").GetProperty("self").GetString());
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        using var first = await service.Client.GetAsync(runs[0].GetProperty("merge").GetString());
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
    }

    [Fact]
    public async Task A_bad_configuration_is_named_by_its_index_and_nothing_is_queued()
    {
        var inputs = await TinyService.UploadAsync(service, Dir, tasks: 2, seed: 42);
        await using var db = service.NewDbContext();
        int merges = await db.Merges.CountAsync(), experiments = await db.Experiments.CountAsync();
        using var response = await service.Client.PostAsJsonAsync("/experiments", new
        {
            @base = inputs.Base,
            tasks = inputs.TaskJson(),
            methods = new object[]
            {
                new { method = "tsv" },
                new { method = "task_arithmetic", options = new { lambda = "strong" } },
                new { method = "ties", label = "tsv" },
                new { method = "no_such_method" },
            },
        });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        var pointers = problem.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("pointer").GetString()).ToList();
        Assert.Contains("/methods/1/options/lambda", pointers);
        Assert.Contains("/methods/2/label", pointers);
        Assert.Contains("/methods/3/method", pointers);
        Assert.Equal(merges, await db.Merges.CountAsync());
        Assert.Equal(experiments, await db.Experiments.CountAsync());
    }
}
