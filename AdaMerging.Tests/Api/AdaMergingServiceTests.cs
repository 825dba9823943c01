using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AdaMerging.Tests.Support;
using TorchSharp;

namespace AdaMerging.Tests.Api;

/// <summary>Layer-wise AdaMerging through the service: CLIP checkpoints, heads and datasets in, merged folder and report out.</summary>
public sealed class AdaMergingServiceTests(ServiceFixture service) : IClassFixture<ServiceFixture>, IDisposable
{
    private readonly TempDirectory _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task Layer_wise_AdaMerging_runs_end_to_end_and_reports_accuracies_coefficients_objective_timings_and_plots()
    {
        var config = await File.ReadAllBytesAsync(ClipTiny.File("config.json"));
        var baseId = await TinyService.PostAsync(service, "/checkpoints", ("model.safetensors", await File.ReadAllBytesAsync(ClipTiny.File("model.safetensors"))), ("config.json", config));
        var headId = await TinyService.PostAsync(service, "/heads", ("head.safetensors", await File.ReadAllBytesAsync(ClipTiny.File("head.safetensors"))));
        using var folder = ClipTiny.OpenHuggingFace();
        var g = new torch.Generator(21);
        var tasks = new List<object>();
        for (int k = 0; k < 2; k++)
        {
            var tuned = folder.Weights.Tensors.ToDictionary(t => t.Name, t =>
            {
                var w = folder.Weights.Read(t.Name);
                return w.is_floating_point() ? w.Plus(torch.randn(w.shape, generator: g).Times(0.05)) : w;
            });
            TestCheckpoints.Save(_files.File($"tuned{k}.safetensors"), tuned);
            var checkpointId = await TinyService.PostAsync(service, "/checkpoints", ("model.safetensors", await File.ReadAllBytesAsync(_files.File($"tuned{k}.safetensors"))), ("config.json", config));
            TestCheckpoints.Save(_files.File($"data{k}.safetensors"), new Dictionary<string, torch.Tensor>
            {
                ["pixel_values"] = torch.randn([12, 3, 16, 16], generator: g),
                ["labels"] = torch.randint(0, 5, [12], generator: g),
            });
            var dataId = await TinyService.PostAsync(service, "/datasets", ("data.safetensors", await File.ReadAllBytesAsync(_files.File($"data{k}.safetensors"))));
            tasks.Add(new { name = $"task{k}", checkpoint = checkpointId, head = headId, adaptationData = dataId, evaluationData = dataId });
        }

        using var submitted = await service.Client.PostAsJsonAsync("/merges", new
        {
            method = "adamerging", @base = baseId, tasks,
            options = new { granularity = "layer", steps = 12, batchSize = 4, learningRate = 0.01, seed = 3 },
        });
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        var merge = await service.WaitForMergeAsync(submitted.Headers.Location!.ToString(), TimeSpan.FromMinutes(2));
        Assert.True(merge.GetProperty("status").GetString() == "succeeded", merge.ToString());

        var report = await service.Client.GetFromJsonAsync<JsonElement>(merge.GetProperty("links").GetProperty("report").GetString());
        Assert.Equal(12, report.GetProperty("objectivePerStep").GetArrayLength());
        var coefficients = report.GetProperty("coefficients").EnumerateArray().ToList();
        Assert.Equal(folder.Weights.Tensors.Count(t => t.DType.IsFloatingPoint), coefficients.Count);
        Assert.Equal("vision_model.embeddings.class_embedding", coefficients[0].GetProperty("layer").GetString());
        Assert.Contains(coefficients, c => c.GetProperty("lambda").EnumerateArray().Any(l => Math.Abs(l.GetDouble() - 0.3) > 1e-4));
        var accuracy = report.GetProperty("accuracy").EnumerateArray().ToList();
        Assert.Equal(["task0", "task1"], accuracy.Select(a => a.GetProperty("task").GetString()));
        foreach (var row in accuracy)
            foreach (var column in new[] { "merged", "base", "individual", "taskArithmetic" })
                Assert.InRange(row.GetProperty(column).GetDouble(), 0, 1);
        Assert.True(report.GetProperty("phaseSeconds").GetProperty("merge").GetDouble() > 0);

        var files = merge.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("fileName").GetString()).ToList();
        Assert.Equal(["config.json", "model.safetensors", "report.json", "coefficients.json", "coefficients.csv", "lambda.png", "objective.png", "accuracy.png", "README.md"], files);
        foreach (var plot in new[] { "lambda.png", "objective.png", "accuracy.png" })
        {
            var png = await service.Client.GetByteArrayAsync($"{merge.GetProperty("links").GetProperty("self").GetString()}/files/{plot}");
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
            await TestArtifacts.SaveAsync($"adamerging-{plot}", png);
        }
        var csv = await service.Client.GetStringAsync($"{merge.GetProperty("links").GetProperty("self").GetString()}/files/coefficients.csv");
        Assert.StartsWith("layer,task0,task1\nvision_model.embeddings.class_embedding,", csv, StringComparison.Ordinal);
        var model = await service.Client.GetByteArrayAsync(merge.GetProperty("links").GetProperty("model").GetString());
        await File.WriteAllBytesAsync(_files.File("merged.safetensors"), model);
        using var merged = AdaMerging.Domain.Tensors.SafetensorsFile.Open(_files.File("merged.safetensors"));
        Assert.Equal(folder.Weights.Tensors.Select(t => t.Name), merged.Tensors.Select(t => t.Name));

        // The archive holds every file; the report matches the engine's own run on the same inputs.
        using var archive = new System.IO.Compression.ZipArchive(new MemoryStream(
            await service.Client.GetByteArrayAsync(merge.GetProperty("links").GetProperty("archive").GetString())));
        Assert.Equal(files.Select(f => $"merged-{merge.GetProperty("id").GetString()}/{f}").Order(), archive.Entries.Select(e => e.FullName).Order());
        var plan = Plans.For("adamerging", """{"granularity": "layer", "steps": 12, "batchSize": 4, "learningRate": 0.01, "seed": 3}""",
            new Dictionary<string, string> { ["model.safetensors"] = ClipTiny.File("model.safetensors"), ["config.json"] = ClipTiny.File("config.json") },
            Enumerable.Range(0, 2).Select(k => new AdaMerging.Domain.Merging.PlannedTask($"task{k}",
                new Dictionary<string, string> { ["model.safetensors"] = _files.File($"tuned{k}.safetensors") }, ClipTiny.File("head.safetensors"),
                _files.File($"data{k}.safetensors"), _files.File($"data{k}.safetensors"))).ToList());
        var local = AdaMerging.Infrastructure.Runs.MergeRun.Execute(plan, torch.CPU, _files.File("local"));
        var serviceAccuracy = accuracy.Select(a => a.GetProperty("merged").GetDouble()).ToList();
        Assert.Equal(local.Accuracy.Select(a => a.Merged!.Value), serviceAccuracy);
        var serviceLambda = coefficients.SelectMany(c => c.GetProperty("lambda").EnumerateArray().Select(l => l.GetDouble())).ToList();
        var localLambda = local.Coefficients!.SelectMany(c => c.Lambda).ToList();
        Assert.Equal(localLambda.Count, serviceLambda.Count);
        Assert.All(localLambda.Zip(serviceLambda), p => Assert.Equal(p.First, p.Second, 6));
    }
}
