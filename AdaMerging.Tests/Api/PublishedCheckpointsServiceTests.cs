using AdaMerging.Domain.Methods;
using AdaMerging.Domain.Architectures.Clip;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Tests.Support;
using Microsoft.EntityFrameworkCore;
using TorchSharp;

namespace AdaMerging.Tests.Api;

/// <summary>
/// FusionBench-style checkpoints through the service: a full CLIP base, vision-only tasks without projection. Every
/// method merges; the download is a full CLIP whose text tower and projection are the base's, byte for byte.
/// </summary>
public sealed class PublishedCheckpointsServiceTests(ServiceFixture service) : TempDirectoryTests, IClassFixture<ServiceFixture>
{
    private async Task<(string Base, object[] Tasks)> UploadAsync()
    {
        var files = FullClipTiny.WriteBase(Dir.File("base"));
        var baseId = await TinyService.PostAsync(service, "/checkpoints",
            ("model.safetensors", await File.ReadAllBytesAsync(files["model.safetensors"])), ("config.json", await File.ReadAllBytesAsync(files["config.json"])));
        var head = await TinyService.PostAsync(service, "/heads", ("head.safetensors", await File.ReadAllBytesAsync(ClipTiny.File("head.safetensors"))));
        var g = new torch.Generator(17);
        var tasks = new List<object>();
        for (int k = 0; k < 2; k++)
        {
            var task = FullClipTiny.WriteVisionTask(Dir.File($"task{k}.safetensors"), g);
            var checkpoint = await TinyService.PostAsync(service, "/checkpoints", ("model.safetensors", await File.ReadAllBytesAsync(task)));
            TestCheckpoints.Save(Dir.File($"data{k}.safetensors"), new Dictionary<string, torch.Tensor>
            {
                ["pixel_values"] = torch.randn([12, 3, 16, 16], generator: g),
                ["labels"] = torch.randint(0, 5, [12], generator: g),
            });
            var data = await TinyService.PostAsync(service, "/datasets", ("data.safetensors", await File.ReadAllBytesAsync(Dir.File($"data{k}.safetensors"))));
            tasks.Add(new { name = $"task{k}", checkpoint, head, adaptationData = data, evaluationData = data });
        }
        return (baseId, [.. tasks]);
    }

    [Fact]
    public async Task Every_method_merges_published_checkpoints_and_the_download_is_a_full_CLIP_with_the_base_s_text_tower()
    {
        var (baseId, tasks) = await UploadAsync();
        using var baseFolder = ModelFolder.Open(new Dictionary<string, string> { ["model.safetensors"] = Dir.File("base/model.safetensors"), ["config.json"] = Dir.File("base/config.json") });
        foreach (var method in MergeMethods.All.Select(m => m.Name))
        {
            var options = QuickOptions.For(MergeMethods.Get(method));
            using var submitted = await service.Client.PostAsJsonAsync("/merges", new { method, @base = baseId, tasks, options });
            Assert.True(submitted.StatusCode == HttpStatusCode.Accepted, $"{method}: {await submitted.Content.ReadAsStringAsync()}");
            var merge = await service.WaitForMergeAsync(submitted.Headers.Location!.ToString(), TimeSpan.FromMinutes(2));
            Assert.True(merge.GetProperty("status").GetString() == "succeeded", $"{method}: {merge}");

            var report = await service.Client.GetFromJsonAsync<JsonElement>(merge.GetProperty("links").GetProperty("report").GetString());
            int vision = baseFolder.Weights.Tensors.Count(t => t.Name.StartsWith(ClipVisionLayout.Prefix, StringComparison.Ordinal) && t.DType.IsFloatingPoint);
            Assert.Equal(vision, report.GetProperty("mergedTensors").GetInt32());
            Assert.Equal(baseFolder.Weights.Tensors.Count - vision, report.GetProperty("carriedTensors").GetInt32());
            var self = merge.GetProperty("links").GetProperty("self").GetString();
            await File.WriteAllBytesAsync(Dir.File($"{method}.safetensors"), await service.Client.GetByteArrayAsync(self + "/model"));
            await File.WriteAllBytesAsync(Dir.File($"{method}.json"), await service.Client.GetByteArrayAsync(self + "/files/config.json"));
            using var merged = ModelFolder.Open(new Dictionary<string, string> { ["model.safetensors"] = Dir.File($"{method}.safetensors"), ["config.json"] = Dir.File($"{method}.json") });
            Assert.True(merged.HasTextTower, $"{method}: not a full CLIP");
            foreach (var name in FullClipTiny.TextTensors.Append(ClipVisionLayout.Projection))
            {
                using var a = baseFolder.Weights.Read(name);
                using var b = merged.Weights.Read(name);
                Assert.True(a.equal(b).all().item<bool>(), $"{method}: {name} was not carried unchanged");
            }
        }
    }

    [Fact]
    public async Task A_task_with_a_tensor_the_base_lacks_is_refused_before_anything_is_queued_naming_it()
    {
        var (baseId, tasks) = await UploadAsync();
        using var vision = ClipTiny.OpenHuggingFace();
        var odd = Dir.File("odd.safetensors");
        TestCheckpoints.Save(odd, vision.Weights.Tensors.ToDictionary(t => t.Name, t => vision.Weights.Read(t.Name))
            .Append(KeyValuePair.Create("adapter.weight", torch.zeros(3))).ToDictionary());
        var oddId = await TinyService.PostAsync(service, "/checkpoints", ("model.safetensors", await File.ReadAllBytesAsync(odd)));
        await using var db = service.NewDbContext();
        int before = await db.Merges.CountAsync();

        using var response = await service.Client.PostAsJsonAsync("/merges", new
        {
            method = "task_arithmetic", @base = baseId, tasks = new object[] { tasks[0], new { name = "odd", checkpoint = oddId } },
        });
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains("task 'odd' checkpoint has tensor 'adapter.weight' [3] that the base lacks", text, StringComparison.Ordinal);
        Assert.Equal(before, await db.Merges.CountAsync());
    }
}
