using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AdaMerging.Domain.Tensors;
using AdaMerging.Tests.Support;
using static TorchSharp.torch;

namespace AdaMerging.Tests.Api;

/// <summary>
/// PEFT LoRA adapters through the API and the worker (docs/api.md, "LoRA adapters as tasks"): uploaded as their
/// folders, merged as tasks into tools/make_lora_fixture.py's reference, and what is refused — an adapter naming a
/// module the base lacks or given as the base at pre-flight, a DoRA adapter when sealed.
/// </summary>
public sealed class LoraServiceTests(ServiceFixture service) : IClassFixture<ServiceFixture>, IDisposable
{
    private readonly TempDirectory _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task Adapters_upload_as_peft_lora_and_merge_into_the_reference_model()
    {
        var baseId = await TinyService.PostAsync(service, "/checkpoints?name=lora-base", ("model.safetensors", await File.ReadAllBytesAsync(LoraFixtures.Base()["model.safetensors"])));
        var tasks = new List<object>();
        foreach (var adapter in LoraFixtures.Adapters)
        {
            var id = await UploadAdapterAsync(adapter, LoraFixtures.Adapter(adapter));
            var checkpoint = await service.Client.GetFromJsonAsync<JsonElement>($"/checkpoints/{id}");
            Assert.Equal("peft_lora", checkpoint.GetProperty("layout").GetString());
            tasks.Add(new { name = adapter, checkpoint = id });
        }
        using var submitted = await service.Client.PostAsJsonAsync("/merges", new { method = "task_arithmetic", @base = baseId, tasks, options = new { lambda = LoraFixtures.Lambda } });
        Assert.True(submitted.StatusCode == HttpStatusCode.Accepted, await submitted.Content.ReadAsStringAsync());
        var merge = await service.WaitForMergeAsync(submitted.Headers.Location!.ToString(), TimeSpan.FromMinutes(2));
        Assert.True(merge.GetProperty("status").GetString() == "succeeded", merge.ToString());

        var merged = await TinyService.DownloadModelAsync(service, _files, merge);
        using var expected = SafetensorsFile.Open(LoraFixtures.File("merged_ta.safetensors"));
        foreach (var t in expected.Tensors)
        {
            using var reference = expected.Read(t.Name, ScalarType.Float32);
            TinyService.AssertClose(reference, merged[t.Name], t.Name);
        }
    }

    [Fact]
    public async Task An_adapter_naming_a_module_the_base_lacks_or_given_as_the_base_is_refused_at_preflight()
    {
        var baseId = await TinyService.PostAsync(service, "/checkpoints?name=lora-base", ("model.safetensors", await File.ReadAllBytesAsync(LoraFixtures.Base()["model.safetensors"])));
        var folder = LoraFixtures.Adapter("plain");
        using (var source = SafetensorsFile.Open(folder["adapter_model.safetensors"]))
            TestCheckpoints.Save(_files.File("k_proj.safetensors"), source.Tensors.ToDictionary(t => t.Name.Replace("v_proj", "k_proj", StringComparison.Ordinal), t => source.Read(t.Name)));
        var stray = await UploadAdapterAsync("stray", new() { ["adapter_config.json"] = folder["adapter_config.json"], ["adapter_model.safetensors"] = _files.File("k_proj.safetensors") });

        using (var response = await service.Client.PostAsJsonAsync("/merges", new { method = "ties", @base = baseId, tasks = new[] { new { name = "stray", checkpoint = stray } } }))
        {
            var errors = Problems.Errors(await Problems.ReadAsync(response, HttpStatusCode.UnprocessableEntity));
            var error = Assert.Single(errors);
            Assert.Equal(("/tasks/0/checkpoint", "checkpoint_mismatch"), (error.Pointer, error.Code));
            Assert.Contains("'model.layers.0.self_attn.k_proj.weight' [6, 8] that the base lacks", error.Detail, StringComparison.Ordinal);
        }
        using (var response = await service.Client.PostAsJsonAsync("/merges", new { method = "ties", @base = stray, tasks = new[] { new { name = "base", checkpoint = baseId } } }))
        {
            var errors = Problems.Errors(await Problems.ReadAsync(response, HttpStatusCode.UnprocessableEntity));
            Assert.Contains(errors, e => e.Pointer == "/base" && e.Code == "checkpoint_mismatch" && e.Detail.Contains("the base is a LoRA adapter", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task A_DoRA_adapter_is_refused_when_uploaded_saying_why()
    {
        var folder = LoraFixtures.Adapter("plain");
        using var content = TinyService.Multipart(("adapter_config.json", Encoding.UTF8.GetBytes("""{"peft_type": "LORA", "r": 4, "lora_alpha": 8, "use_dora": true}""")),
            ("adapter_model.safetensors", await File.ReadAllBytesAsync(folder["adapter_model.safetensors"])));
        using var response = await service.Client.PostAsync("/checkpoints?name=dora", content);
        var problem = await Problems.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("use_dora is true: DoRA adapters", Problems.Text(problem), StringComparison.Ordinal);
    }

    private async Task<string> UploadAdapterAsync(string name, Dictionary<string, string> files) =>
        await TinyService.PostAsync(service, $"/checkpoints?name={name}",
            [.. await Task.WhenAll(files.Select(async f => (f.Key, await File.ReadAllBytesAsync(f.Value))))]);
}
