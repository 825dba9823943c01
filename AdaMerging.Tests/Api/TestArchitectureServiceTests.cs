using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AdaMerging.Domain.Methods;
using AdaMerging.Domain.Tensors;
using AdaMerging.Tests.Support;
using AdaMerging.Tests.Support.Mlp;
using TorchSharp;

namespace AdaMerging.Tests.Api;

/// <summary>
/// The architecture registry's seam: an MLP over feature vectors registered from this test assembly alone
/// (<see cref="MlpArchitecture"/>) is uploaded, checked, merged by every registered method and evaluated through the
/// API and the worker, with datasets of its own modality; no production file knows it exists.
/// </summary>
public sealed class TestArchitectureServiceTests(ServiceFixture service) : IClassFixture<ServiceFixture>, IDisposable
{
    private static readonly int[] Widths = [6, 8, 8, 5];
    private readonly TempDirectory _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task Every_registered_method_merges_and_evaluates_an_architecture_registered_by_the_tests_alone()
    {
        var (baseId, tasks, baseTensors, taskTensors) = await UploadAsync();
        var checkpoint = await service.Client.GetFromJsonAsync<JsonElement>($"/checkpoints/{baseId}");
        Assert.Equal(MlpArchitecture.LayoutName, checkpoint.GetProperty("layout").GetString());
        Assert.Equal("test_mlp", checkpoint.GetProperty("architecture").GetString());
        Assert.Equal(5, checkpoint.GetProperty("featureSize").GetInt32());

        foreach (var method in MergeMethods.All)
        {
            object options = method.Name == "adamerging" ? new { granularity = "layer", layerUnit = "block", steps = 4, batchSize = 8 } : QuickOptions.For(method);
            using var submitted = await service.Client.PostAsJsonAsync("/merges", new { method = method.Name, @base = baseId, tasks, options });
            Assert.True(submitted.StatusCode == HttpStatusCode.Accepted, $"{method.Name}: {await submitted.Content.ReadAsStringAsync()}");
            var merge = await service.WaitForMergeAsync(submitted.Headers.Location!.ToString(), TimeSpan.FromMinutes(2));
            Assert.True(merge.GetProperty("status").GetString() == "succeeded", $"{method.Name}: {merge}");
            var report = await service.Client.GetFromJsonAsync<JsonElement>(merge.GetProperty("links").GetProperty("report").GetString());
            var accuracy = report.GetProperty("accuracy").EnumerateArray().ToList();
            Assert.Equal(["t0", "t1", "t2"], accuracy.Select(a => a.GetProperty("task").GetString()));
            Assert.All(accuracy, a => Assert.InRange(a.GetProperty("merged").GetDouble(), 0, 1));
            var merged = await TinyService.DownloadModelAsync(service, _files, merge);
            Assert.Equal(baseTensors.Keys.Order(StringComparer.Ordinal), merged.Keys.Order(StringComparer.Ordinal));
            if (method.Name == "task_arithmetic")
                foreach (var (name, θ0) in baseTensors)   // θ0 + 0.3 Σk τk, the default λ
                    TinyService.AssertClose(θ0.Plus(taskTensors.Select(t => t[name] - θ0).Aggregate((a, b) => a.Plus(b)).Times(0.3)), merged[name], name);
            if (method.Name == "adamerging")   // one row per layer of the MLP (its blocks), none before or after them
                Assert.Equal(["embeddings", "block 0", "block 1", "block 2", "head"],
                    report.GetProperty("coefficients").EnumerateArray().Select(c => c.GetProperty("layer").GetString()));
        }
    }

    [Fact]
    public async Task Images_for_a_model_over_features_are_refused_at_preflight_naming_both_modalities()
    {
        var (baseId, tasks, _, _) = await UploadAsync();
        TestCheckpoints.Save(_files.File("images.safetensors"), new Dictionary<string, torch.Tensor>
        {
            ["pixel_values"] = torch.zeros([4, 3, 8, 8]), ["labels"] = torch.zeros([4], dtype: torch.ScalarType.Int64),
        });
        var images = await TinyService.PostAsync(service, "/datasets", ("images.safetensors", await File.ReadAllBytesAsync(_files.File("images.safetensors"))));
        var dataset = await service.Client.GetFromJsonAsync<JsonElement>($"/datasets/{images}");
        Assert.Equal("images", dataset.GetProperty("modality").GetString());
        var withImages = tasks.Select((t, k) => k == 1 ? t with { adaptationData = images } : t).ToArray();

        using var submitted = await service.Client.PostAsJsonAsync("/merges", new { method = "adamerging", @base = baseId, tasks = withImages });

        var problem = await Problems.ReadAsync(submitted, HttpStatusCode.UnprocessableEntity);
        Assert.Contains("task 't1' adaptation dataset holds images where the model (test_mlp: test MLP 6 → 8 → 8 → 5) takes features", Problems.Text(problem),
            StringComparison.Ordinal);
    }

    private sealed record TaskJson(string name, string checkpoint, string head, string adaptationData, string evaluationData);

    private async Task<(string Base, TaskJson[] Tasks, Dictionary<string, torch.Tensor> BaseTensors, List<Dictionary<string, torch.Tensor>> TaskTensors)> UploadAsync()
    {
        MlpArchitecture.EnsureRegistered();
        var g = new torch.Generator(5);
        Dictionary<string, torch.Tensor> Mlp(Dictionary<string, torch.Tensor>? from) => Enumerable.Range(0, Widths.Length - 1)
            .SelectMany(l => new[] { ($"mlp.layers.{l}.weight", new long[] { Widths[l + 1], Widths[l] }), ($"mlp.layers.{l}.bias", new long[] { Widths[l + 1] }) })
            .ToDictionary(x => x.Item1, x => from is null ? torch.randn(x.Item2, generator: g) : from[x.Item1].Plus(torch.randn(x.Item2, generator: g).Times(0.1)));
        var θ0 = Mlp(null);
        TestCheckpoints.Save(_files.File("base.safetensors"), θ0);
        var baseId = await TinyService.PostAsync(service, "/checkpoints", ("model.safetensors", await File.ReadAllBytesAsync(_files.File("base.safetensors"))));
        TestCheckpoints.Save(_files.File("head.safetensors"), new Dictionary<string, torch.Tensor> { ["weight"] = torch.randn([3, Widths[^1]], generator: g) });
        var headId = await TinyService.PostAsync(service, "/heads", ("head.safetensors", await File.ReadAllBytesAsync(_files.File("head.safetensors"))));
        var tasks = new List<TaskJson>();
        var tuned = new List<Dictionary<string, torch.Tensor>>();
        for (int k = 0; k < 3; k++)
        {
            tuned.Add(Mlp(θ0));
            TestCheckpoints.Save(_files.File($"t{k}.safetensors"), tuned[k]);
            TestCheckpoints.Save(_files.File($"d{k}.safetensors"), new Dictionary<string, torch.Tensor>
            {
                ["features"] = torch.randn([24, Widths[0]], generator: g), ["labels"] = torch.randint(0, 3, [24], generator: g),
            });
            tasks.Add(new TaskJson($"t{k}",
                await TinyService.PostAsync(service, "/checkpoints", ("model.safetensors", await File.ReadAllBytesAsync(_files.File($"t{k}.safetensors")))),
                headId, await TinyService.PostAsync(service, "/datasets", ("d.safetensors", await File.ReadAllBytesAsync(_files.File($"d{k}.safetensors")))), ""));
        }
        return (baseId, tasks.Select(t => t with { evaluationData = t.adaptationData }).ToArray(), θ0, tuned);
    }
}
