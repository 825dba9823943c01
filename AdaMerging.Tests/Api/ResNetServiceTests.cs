using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AdaMerging.Domain.Architectures;
using AdaMerging.Domain.Architectures.ResNet;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Tensors;
using AdaMerging.Tests.Support;
using TorchSharp;

namespace AdaMerging.Tests.Api;

/// <summary>
/// A ResNet through the API and the worker (the tiny torchvision fixture): each task's own classifier is its head,
/// the base's is carried, batch-norm statistics are merged or recomputed as asked, and AdaMerging's coefficients are
/// reported under ResNet's tensor names.
/// </summary>
public sealed class ResNetServiceTests(ServiceFixture service) : IClassFixture<ServiceFixture>, IDisposable
{
    private const int Classes = 4;
    private readonly TempDirectory _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task Layer_wise_AdaMerging_of_a_ResNet_uses_each_task_s_classifier_carries_the_base_s_and_names_its_rows_by_tensor()
    {
        var (baseId, tasks, baseTensors) = await UploadAsync();
        var checkpoint = await service.Client.GetFromJsonAsync<JsonElement>($"/checkpoints/{baseId}");
        Assert.Equal(("resnet", ResNetArchitecture.TorchVisionLayout, 16), (checkpoint.GetProperty("architecture").GetString(),
            checkpoint.GetProperty("layout").GetString(), checkpoint.GetProperty("featureSize").GetInt32()));

        var merge = await MergeAsync("adamerging", baseId, tasks, new { granularity = "layer", steps = 3, batchSize = 4 });
        var report = await service.Client.GetFromJsonAsync<JsonElement>(merge.GetProperty("links").GetProperty("report").GetString());
        var accuracy = report.GetProperty("accuracy").EnumerateArray().ToList();
        Assert.Equal(["t0", "t1"], accuracy.Select(a => a.GetProperty("task").GetString()));
        Assert.All(accuracy, a => Assert.InRange(a.GetProperty("merged").GetDouble(), 0, 1));
        var rows = report.GetProperty("coefficients").EnumerateArray().Select(c => c.GetProperty("layer").GetString()).ToList();
        Assert.Contains("layer1.0.conv1.weight", rows);
        Assert.Contains("layer2.0.downsample.1.weight", rows);
        Assert.DoesNotContain(rows, r => r!.Contains("running_", StringComparison.Ordinal) || r.StartsWith("fc.", StringComparison.Ordinal));

        var merged = await TinyService.DownloadModelAsync(service, _files, merge);
        Assert.Equal(baseTensors.Keys.Order(StringComparer.Ordinal), merged.Keys.Order(StringComparer.Ordinal));
        Assert.True(baseTensors["fc.weight"].equal(merged["fc.weight"]).all().item<bool>(), "the base's classifier is carried");
        Assert.Equal(baseTensors["bn1.num_batches_tracked"].item<long>(), merged["bn1.num_batches_tracked"].item<long>());
    }

    [Fact]
    public async Task Batch_norm_statistics_are_merged_with_their_weight_or_recomputed_on_the_adaptation_images()
    {
        var (baseId, tasks, baseTensors) = await UploadAsync();
        var tuned = tasks.Select((_, k) => TaskTensors(k)).ToList();
        var mergedStats = await TinyService.DownloadModelAsync(service, _files, await MergeAsync("task_arithmetic", baseId, tasks, new { batchNormStatistics = "merge" }));
        var recomputed = await TinyService.DownloadModelAsync(service, _files, await MergeAsync("task_arithmetic", baseId, tasks, new { batchNormStatistics = "recompute", evaluationBatchSize = 8 }));

        foreach (var name in new[] { "bn1.running_mean", "layer2.0.bn2.running_var", "layer1.0.conv1.weight" })
        {
            var expected = baseTensors[name].Plus(tuned.Select(t => t[name] - baseTensors[name]).Aggregate((a, b) => a.Plus(b)).Times(0.3));
            TinyService.AssertClose(expected, mergedStats[name], name);
        }
        TinyService.AssertClose(mergedStats["layer1.0.conv1.weight"], recomputed["layer1.0.conv1.weight"], "the weights");

        // The statistics the service wrote are those the merged weights give on the tasks' own images.
        using var folder = ResNetTiny.OpenTorchVision();
        var spec = (ResNetSpec)folder.Spec!;
        var parameters = mergedStats.Where(kv => kv.Value.is_floating_point() && spec.ReadsTensor(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var rows = Enumerable.Range(0, 2).Select(k => spec.OpenRows(_files.File($"d{k}.safetensors"), DatasetInfo.Inspect(_files.File($"d{k}.safetensors"), new UploadLimits()), _files.File($"s{k}")).Rows).ToList();
        var layers = BatchStatistics.Recompute(new ResNetModel(spec.Config, spec.Names), parameters, rows, 8);
        Assert.Equal(8, layers.Count);   // the stem, four in the blocks, the shortcut's
        foreach (var layer in layers)
        {
            TinyService.AssertClose(parameters[layer + ".running_var"], recomputed[layer + ".running_var"], layer);
            Assert.False(mergedStats[layer + ".running_mean"].allclose(recomputed[layer + ".running_mean"]), $"{layer}: recomputed equals merged");
        }
        rows.ForEach(r => r.Dispose());
    }

    [Fact]
    public async Task A_head_of_the_wrong_width_and_a_task_without_any_head_are_refused_at_preflight()
    {
        var (baseId, tasks, _) = await UploadAsync();
        TestCheckpoints.Save(_files.File("head.safetensors"), new Dictionary<string, torch.Tensor> { ["weight"] = torch.zeros([Classes, 12]) });
        var head = await TinyService.PostAsync(service, "/heads", ("head.safetensors", await File.ReadAllBytesAsync(_files.File("head.safetensors"))));
        using var folder = ResNetTiny.OpenTorchVision();
        TestCheckpoints.Save(_files.File("headless.safetensors"), folder.Weights.Tensors.Where(t => !t.Name.StartsWith("fc.", StringComparison.Ordinal))
            .ToDictionary(t => t.Name, t => folder.Weights.Read(t.Name)));
        var headless = await TinyService.PostAsync(service, "/checkpoints", ("model.safetensors", await File.ReadAllBytesAsync(_files.File("headless.safetensors"))));
        object[] refused = [tasks[0] with { head = head }, tasks[1] with { checkpoint = headless }];

        using var submitted = await service.Client.PostAsJsonAsync("/merges", new { method = "adamerging", @base = baseId, tasks = refused });

        var errors = Problems.Errors(await Problems.ReadAsync(submitted, HttpStatusCode.UnprocessableEntity));
        Assert.Contains(("/tasks/0/head", "head_mismatch", "task 't0' head takes 12 features where the encoder gives 16"), errors);
        Assert.Contains(errors, e => e is ("/tasks/1/head", "required", _) && e.Detail.Contains("'fc.weight'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RegMean_of_a_ResNet_solves_every_convolution_and_averages_its_batch_norms()
    {
        var (baseId, tasks, _) = await UploadAsync();
        var tuned = tasks.Select((_, k) => TaskTensors(k)).ToList();
        var merged = await TinyService.DownloadModelAsync(service, _files, await MergeAsync("regmean", baseId, tasks, new { regmeanExamples = 12, batchNormStatistics = "merge" }));
        torch.Tensor Mean(string name) => tuned[0][name].Plus(tuned[1][name]).DividedBy(2);
        foreach (var norm in new[] { "bn1.weight", "layer2.0.bn2.running_var", "layer2.0.downsample.1.bias" })
            TinyService.AssertClose(Mean(norm), merged[norm], norm);
        foreach (var conv in new[] { "conv1.weight", "layer1.0.conv2.weight", "layer2.0.downsample.0.weight", "layer2.1.conv1.weight" })
        {
            Assert.Equal(tuned[0][conv].shape, merged[conv].shape);
            Assert.True((merged[conv] - Mean(conv)).abs().max().item<float>() > 1e-3, $"{conv} is the plain mean: not solved");
        }
    }

    private sealed record TaskJson(string name, string checkpoint, string adaptationData, string evaluationData, string? head = null);

    private Dictionary<string, torch.Tensor> TaskTensors(int k)
    {
        using var file = SafetensorsFile.Open(_files.File($"t{k}.safetensors"));
        return file.Tensors.ToDictionary(t => t.Name, t => file.Read(t.Name));
    }

    /// <summary>The fixture as the base (its 3-class classifier standing for ImageNet's), two perturbed tasks with 4-class classifiers of their own, and labeled uint8 images.</summary>
    private async Task<(string Base, TaskJson[] Tasks, Dictionary<string, torch.Tensor> BaseTensors)> UploadAsync()
    {
        using var folder = ResNetTiny.OpenTorchVision();
        var θ0 = folder.Weights.Tensors.ToDictionary(t => t.Name, t => folder.Weights.Read(t.Name));
        var baseId = await TinyService.PostAsync(service, "/checkpoints", ("model.safetensors", await File.ReadAllBytesAsync(ResNetTiny.File("torchvision.safetensors"))));
        var g = new torch.Generator(9);
        var tasks = new List<TaskJson>();
        for (int k = 0; k < 2; k++)
        {
            var tuned = θ0.Where(kv => !kv.Key.StartsWith("fc.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => !kv.Value.is_floating_point() ? kv.Value
                : kv.Key.EndsWith("running_var", StringComparison.Ordinal) ? kv.Value * torch.rand(kv.Value.shape, generator: g).Times(0.2).Plus(1)
                : kv.Value.Plus(torch.randn(kv.Value.shape, generator: g).Times(0.05)));
            tuned["fc.weight"] = torch.randn([Classes, 16], generator: g);
            tuned["fc.bias"] = torch.zeros(Classes);
            TestCheckpoints.Save(_files.File($"t{k}.safetensors"), tuned);
            TestCheckpoints.Save(_files.File($"d{k}.safetensors"), new Dictionary<string, torch.Tensor>
            {
                ["pixel_values"] = torch.randint(0, 256, [12, 3, 20, 20], generator: g).to_type(torch.ScalarType.Byte),
                ["labels"] = torch.randint(0, Classes, [12], generator: g),
            });
            var data = await TinyService.PostAsync(service, "/datasets", ("d.safetensors", await File.ReadAllBytesAsync(_files.File($"d{k}.safetensors"))));
            tasks.Add(new TaskJson($"t{k}",
                await TinyService.PostAsync(service, "/checkpoints", ("model.safetensors", await File.ReadAllBytesAsync(_files.File($"t{k}.safetensors")))), data, data));
        }
        return (baseId, [.. tasks], θ0);
    }

    private async Task<JsonElement> MergeAsync(string method, string baseId, TaskJson[] tasks, object options)
    {
        using var submitted = await service.Client.PostAsJsonAsync("/merges", new { method, @base = baseId, tasks, options });
        Assert.True(submitted.StatusCode == HttpStatusCode.Accepted, $"{method}: {await submitted.Content.ReadAsStringAsync()}");
        var merge = await service.WaitForMergeAsync(submitted.Headers.Location!.ToString(), TimeSpan.FromMinutes(2));
        Assert.True(merge.GetProperty("status").GetString() == "succeeded", $"{method}: {merge}");
        return merge;
    }
}
