using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using TorchSharp;

namespace AdaMerging.Tests.Support;

/// <summary>Uploads the tiny CLIP, a head, and per task a perturbed checkpoint and a labeled dataset; returns the ids.</summary>
public static class TinyService
{
    public sealed record Inputs(string Base, string Head, IReadOnlyList<(string Checkpoint, string Data)> Tasks)
    {
        public object[] TaskJson() => Tasks.Select((t, k) => (object)new
        {
            name = $"task{k}", checkpoint = t.Checkpoint, head = Head, adaptationData = t.Data, evaluationData = t.Data,
        }).ToArray();
    }

    public static Task<Inputs> UploadAsync(ServiceFixture service, TempDirectory files, int tasks, int seed) => UploadAsync(service.Client, files, tasks, seed);

    /// <summary>The same, as the owner of <paramref name="client"/>'s key (a web page session's).</summary>
    public static async Task<Inputs> UploadAsync(HttpClient service, TempDirectory files, int tasks, int seed)
    {
        var config = await File.ReadAllBytesAsync(ClipTiny.File("config.json"));
        var baseId = await PostAsync(service, "/checkpoints", ("model.safetensors", await File.ReadAllBytesAsync(ClipTiny.File("model.safetensors"))), ("config.json", config));
        var headId = await PostAsync(service, "/heads", ("head.safetensors", await File.ReadAllBytesAsync(ClipTiny.File("head.safetensors"))));
        var result = new List<(string, string)>();
        foreach (var (model, data) in TaskFiles(files, tasks, seed))
        {
            result.Add((await PostAsync(service, "/checkpoints", ("model.safetensors", await File.ReadAllBytesAsync(model)), ("config.json", config)),
                await PostAsync(service, "/datasets", ("data.safetensors", await File.ReadAllBytesAsync(data)))));
        }
        return new Inputs(baseId, headId, result);
    }

    /// <summary>Per task, the tiny CLIP perturbed by seeded noise and a labeled 12-image dataset, written under <paramref name="files"/>.</summary>
    public static List<(string Model, string Data)> TaskFiles(TempDirectory files, int tasks, int seed)
    {
        using var folder = ClipTiny.OpenHuggingFace();
        var g = new torch.Generator((ulong)seed);
        var paths = new List<(string, string)>();
        for (int k = 0; k < tasks; k++)
        {
            var model = files.File($"tiny{seed}-{k}.safetensors");
            TestCheckpoints.Save(model, folder.Weights.Tensors.ToDictionary(t => t.Name, t =>
                folder.Weights.Read(t.Name) is var w && w.is_floating_point() ? w.Plus(torch.randn(w.shape, generator: g).Times(0.05)) : w));
            var data = files.File($"tiny{seed}-{k}-data.safetensors");
            TestCheckpoints.Save(data, new Dictionary<string, torch.Tensor>
            {
                ["pixel_values"] = torch.randn([12, 3, 16, 16], generator: g),
                ["labels"] = torch.randint(0, 5, [12], generator: g),
            });
            paths.Add((model, data));
        }
        return paths;
    }

    /// <summary>Files as multipart parts named "file", as a model folder is uploaded.</summary>
    public static MultipartFormDataContent Multipart(params (string Name, byte[] Bytes)[] files)
    {
        var content = new MultipartFormDataContent();
        foreach (var (name, bytes) in files)
        {
            var part = new ByteArrayContent(bytes);
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            content.Add(part, "file", name);
        }
        return content;
    }

    public static Task<string> PostAsync(ServiceFixture service, string path, params (string Name, byte[] Bytes)[] files) => PostAsync(service.Client, path, files);

    public static async Task<string> PostAsync(HttpClient client, string path, params (string Name, byte[] Bytes)[] files)
    {
        using var content = Multipart(files);
        using var response = await client.PostAsync(path, content);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{path}: {(int)response.StatusCode} {body}");
        return body.GetProperty("id").GetString()!;
    }

    /// <summary>A succeeded merge's model.safetensors, downloaded into <paramref name="files"/>, as tensors by name.</summary>
    public static async Task<Dictionary<string, torch.Tensor>> DownloadModelAsync(ServiceFixture service, TempDirectory files, JsonElement merge)
    {
        var path = files.File($"{merge.GetProperty("id").GetString()}.safetensors");
        await File.WriteAllBytesAsync(path, await service.Client.GetByteArrayAsync(merge.GetProperty("links").GetProperty("model").GetString()));
        using var file = AdaMerging.Domain.Tensors.SafetensorsFile.Open(path);
        return file.Tensors.ToDictionary(t => t.Name, t => file.Read(t.Name));
    }

    /// <summary>The largest absolute difference of two tensors is at most 1e-5.</summary>
    public static void AssertClose(torch.Tensor expected, torch.Tensor actual, string name)
    {
        double difference = (expected - actual).abs().max().item<float>();
        Assert.True(difference <= 1e-5, $"{name}: largest difference {difference:E2}");
    }
}
