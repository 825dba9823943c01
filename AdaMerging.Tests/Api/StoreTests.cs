using AdaMerging.Domain.Architectures.Clip;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Tensors;
using AdaMerging.Tests.Support;
using TorchSharp;

namespace AdaMerging.Tests.Api;

/// <summary>The store: checkpoints as model folders (one request or file by file), heads, datasets, and the pre-flight check.</summary>
public sealed class StoreTests(ServiceFixture service) : IClassFixture<ServiceFixture>, IDisposable
{
    private readonly TempDirectory _files = new();

    public void Dispose() => _files.Dispose();

    private static MultipartFormDataContent Multipart(params (string Name, byte[] Bytes)[] files)
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

    private (string Name, byte[] Bytes)[] ShardedTinyClip(int seed = 1)
    {
        var dir = Path.Combine(_files.Path, $"sharded{seed}");
        var hf = ClipFixtures.HuggingFace(ClipFixtures.Tiny, seed);
        using (var writer = new ShardedSafetensorsWriter(dir, SafetensorsWriter.LayoutOf(hf), 8192))
        {
            foreach (var (name, t) in hf) writer.Write(name, t);
            writer.Commit();
        }
        File.WriteAllText(Path.Combine(dir, "config.json"), ClipFixtures.ConfigJson(ClipFixtures.Tiny));
        return Directory.GetFiles(dir).Select(p => (Path.GetFileName(p), File.ReadAllBytes(p))).ToArray();
    }

    private static async Task<JsonElement> CreatedAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode}: {body}");
        return body;
    }

    [Fact]
    public async Task A_sharded_Hugging_Face_folder_uploads_in_one_request_and_lists_its_tensors_by_page()
    {
        var files = ShardedTinyClip();
        using var content = Multipart(files);
        var checkpoint = await CreatedAsync(await service.Client.PostAsync("/checkpoints?name=tiny-clip", content));
        Assert.Equal("sealed", checkpoint.GetProperty("status").GetString());
        Assert.Equal("sharded_safetensors", checkpoint.GetProperty("format").GetString());
        Assert.Equal("hugging_face_clip_vision", checkpoint.GetProperty("layout").GetString());
        Assert.Equal(12, checkpoint.GetProperty("featureSize").GetInt32());
        Assert.Equal(16, checkpoint.GetProperty("config").GetProperty("hiddenSize").GetInt32());
        Assert.Equal(files.Length, checkpoint.GetProperty("files").GetArrayLength());
        var expectedTensors = ClipVisionLayout.ExpectedShapes(ClipFixtures.Tiny, true).Count() + 1;
        Assert.Equal(expectedTensors, checkpoint.GetProperty("tensorCount").GetInt32());

        var id = checkpoint.GetProperty("id").GetString();
        var all = await service.Client.GetFromJsonAsync<JsonElement>($"/checkpoints/{id}/tensors?limit=1000");
        var names = all.GetProperty("data").EnumerateArray().Select(t => t.GetProperty("name").GetString()!).ToList();
        Assert.Equal(expectedTensors, names.Count);
        Assert.False(all.GetProperty("hasMore").GetBoolean());
        // By cursor: the page after the tenth tensor is the eleventh to the fifteenth; the deprecated offset form agrees.
        var page = await service.Client.GetFromJsonAsync<JsonElement>($"/checkpoints/{id}/tensors?after={names[9]}&limit=5");
        Assert.Equal(names[10..15], page.GetProperty("data").EnumerateArray().Select(t => t.GetProperty("name").GetString()!));
        Assert.Equal((names[10], names[14], expectedTensors), (page.GetProperty("firstId").GetString(), page.GetProperty("lastId").GetString(), page.GetProperty("total").GetInt32()));
        Assert.True(page.GetProperty("hasMore").GetBoolean());
        Assert.False(page.TryGetProperty("tensors", out _)); // the old fields only answer the old form
        var byOffset = await service.Client.GetFromJsonAsync<JsonElement>($"/checkpoints/{id}/tensors?offset=10&limit=5");
        Assert.Equal(names[10..15], byOffset.GetProperty("tensors").EnumerateArray().Select(t => t.GetProperty("name").GetString()!));
        Assert.Equal(10, byOffset.GetProperty("offset").GetInt32());
        using var unknown = await service.Client.GetAsync($"/checkpoints/{id}/tensors?after=no.such.tensor");
        await Problems.ReadAsync(unknown, HttpStatusCode.BadRequest);
        var fc1 = all.GetProperty("data").EnumerateArray().Single(t => t.GetProperty("name").GetString() == "vision_model.encoder.layers.1.mlp.fc1.weight");
        Assert.Equal([32L, 16], fc1.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        Assert.Equal("F32", fc1.GetProperty("dType").GetString());
    }

    [Fact]
    public async Task A_checkpoint_can_arrive_file_by_file_and_stays_open_until_it_seals_cleanly()
    {
        var files = ShardedTinyClip(seed: 2);
        var open = await CreatedAsync(await service.Client.PostAsync("/checkpoints/open?name=by-parts", null));
        var id = open.GetProperty("id").GetString();
        Assert.Equal("open", open.GetProperty("status").GetString());
        foreach (var (name, bytes) in files.Where(f => f.Name != "model.safetensors.index.json"))
        {
            using var put = await service.Client.PutAsync($"/checkpoints/{id}/files/{name}", new ByteArrayContent(bytes));
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }
        // Shards without their index: sealing fails and says why, and the checkpoint stays open to be completed.
        using (var early = await service.Client.PostAsync($"/checkpoints/{id}/seal", null))
            Assert.Contains("without model.safetensors.index.json", Problems.Text(await Problems.ReadAsync(early, HttpStatusCode.BadRequest)), StringComparison.Ordinal);
        var index = files.Single(f => f.Name == "model.safetensors.index.json");
        using (var put = await service.Client.PutAsync($"/checkpoints/{id}/files/{index.Name}", new ByteArrayContent(index.Bytes)))
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        using var sealedResponse = await service.Client.PostAsync($"/checkpoints/{id}/seal", null);
        var sealedBody = await sealedResponse.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("sealed", sealedBody.GetProperty("status").GetString());
        using var late = await service.Client.PutAsync($"/checkpoints/{id}/files/extra.safetensors", new ByteArrayContent(files[0].Bytes));
        await Problems.ReadAsync(late, HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task A_PyTorch_state_dict_is_converted_once_to_safetensors()
    {
        var pickle = await File.ReadAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "Fixtures", "state_dict.bin"));
        using var content = Multipart(("pytorch_model.bin", pickle));
        var checkpoint = await CreatedAsync(await service.Client.PostAsync("/checkpoints", content));
        Assert.Equal("py_torch", checkpoint.GetProperty("format").GetString());
        var file = checkpoint.GetProperty("files")[0];
        Assert.Equal("model.safetensors", file.GetProperty("fileName").GetString());
        var sha = file.GetProperty("sha256").GetString()!;
        using var stored = SafetensorsFile.Open(Path.Combine(service.DataRoot, "blobs", "sha256", sha[..2], sha));
        Assert.True(torch.arange(RootedScalars.Of(12), torch.ScalarType.Float32).reshape(3, 4).DividedBy(10).equal(stored.Read("w")).all().item<bool>());
        Assert.Equal(["F16", "F32", "F64", "I64"], checkpoint.GetProperty("dTypes").EnumerateArray().Select(d => d.GetString()));
    }

    [Fact]
    public async Task The_same_bytes_uploaded_twice_are_stored_once()
    {
        var (theta0, _) = TestCheckpoints.Family(0, seed: 99);
        TestCheckpoints.Save(_files.File("same.safetensors"), theta0);
        var first = await service.UploadAsync(_files.File("same.safetensors"));
        var second = await service.UploadAsync(_files.File("same.safetensors"));
        Assert.NotEqual(first.GetProperty("id").GetString(), second.GetProperty("id").GetString());
        var sha = first.GetProperty("files")[0].GetProperty("sha256").GetString()!;
        Assert.Equal(sha, second.GetProperty("files")[0].GetProperty("sha256").GetString());
        Assert.Single(Directory.GetFiles(Path.Combine(service.DataRoot, "blobs", "sha256", sha[..2]), sha));
    }

    [Fact]
    public async Task Non_finite_values_are_accepted_but_reported()
    {
        var tensors = new Dictionary<string, torch.Tensor> { ["ok"] = torch.ones(3), ["bad"] = torch.tensor(new[] { 1f, float.NaN, float.PositiveInfinity }) };
        TestCheckpoints.Save(_files.File("nan.safetensors"), tensors);
        var checkpoint = await service.UploadAsync(_files.File("nan.safetensors"));
        Assert.Equal(["bad: 2 non-finite value(s)"], checkpoint.GetProperty("nonFiniteTensors").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task Heads_and_datasets_are_stored_and_described()
    {
        TestCheckpoints.Save(_files.File("head.safetensors"), new Dictionary<string, torch.Tensor> { ["weight"] = torch.randn(4, 12) });
        var head = await CreatedAsync(await service.Client.PostAsync("/heads?name=mnist-head", new ByteArrayContent(await File.ReadAllBytesAsync(_files.File("head.safetensors")))));
        Assert.Equal((4, 12, false), (head.GetProperty("classes").GetInt32(), head.GetProperty("featureSize").GetInt32(), head.GetProperty("normalizeFeatures").GetBoolean()));
        var fetched = await service.Client.GetFromJsonAsync<JsonElement>($"/heads/{head.GetProperty("id").GetString()}");
        Assert.Equal("mnist-head", fetched.GetProperty("name").GetString());

        var zip = Images.Zip(("zero/a.png", Images.Png(9, 9, SkiaSharp.SKColors.Black)), ("one/b.png", Images.Png(9, 9, SkiaSharp.SKColors.White)));
        using var content = Multipart(("digits.zip", zip));
        var dataset = await CreatedAsync(await service.Client.PostAsync("/datasets", content));
        Assert.Equal("image_folders", dataset.GetProperty("format").GetString());
        Assert.Equal(2, dataset.GetProperty("count").GetInt32());
        Assert.Equal(["one", "zero"], dataset.GetProperty("classNames").EnumerateArray().Select(c => c.GetString()));
        using var missing = await service.Client.GetAsync($"/datasets/{Guid.NewGuid()}");
        await Problems.ReadAsync(missing, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_merge_whose_head_does_not_fit_the_encoder_is_refused_before_it_is_queued()
    {
        using var baseContent = Multipart(ShardedTinyClip(seed: 3));
        var baseId = (await CreatedAsync(await service.Client.PostAsync("/checkpoints", baseContent))).GetProperty("id").GetString();
        using var taskContent = Multipart(ShardedTinyClip(seed: 4));
        var taskId = (await CreatedAsync(await service.Client.PostAsync("/checkpoints", taskContent))).GetProperty("id").GetString();
        TestCheckpoints.Save(_files.File("wide-head.safetensors"), new Dictionary<string, torch.Tensor> { ["weight"] = torch.randn(3, 16) });
        var headId = (await CreatedAsync(await service.Client.PostAsync("/heads", new ByteArrayContent(await File.ReadAllBytesAsync(_files.File("wide-head.safetensors"))))))
            .GetProperty("id").GetString();
        var open = (await CreatedAsync(await service.Client.PostAsync("/checkpoints/open", null))).GetProperty("id").GetString();

        using var refused = await service.Client.PostAsJsonAsync("/merges", new
        {
            method = "task_arithmetic", @base = baseId,
            tasks = new object[] { new { name = "a", checkpoint = taskId, head = headId }, new { name = "b", checkpoint = open } },
        });
        var problem = await Problems.ReadAsync(refused, HttpStatusCode.BadRequest);
        Assert.Contains($"checkpoint {open} is not sealed", Problems.Text(problem), StringComparison.Ordinal);

        using var stillRefused = await service.Client.PostAsJsonAsync("/merges", new
        {
            method = "task_arithmetic", @base = baseId, tasks = new object[] { new { name = "a", checkpoint = taskId, head = headId } },
        });
        Assert.Contains("task 'a' head takes 16 features where the encoder gives 12",
            Problems.Text(await Problems.ReadAsync(stillRefused, HttpStatusCode.UnprocessableEntity)), StringComparison.Ordinal);
    }
}
