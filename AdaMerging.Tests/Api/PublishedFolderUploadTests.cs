using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AdaMerging.Tests.Support;

namespace AdaMerging.Tests.Api;

/// <summary>
/// A model folder uploads as it is published: the files an architecture reads are read (open_clip's own config
/// included), weights in a second format and the repository's other files are listed as skipped, not stored.
/// </summary>
public sealed class PublishedFolderUploadTests(ServiceFixture service) : IClassFixture<ServiceFixture>
{
    private static readonly byte[] OpenClipConfig = Encoding.UTF8.GetBytes(
        """{"model_cfg": {"embed_dim": 24, "quick_gelu": true, "vision_cfg": {"image_size": 16, "layers": 2, "width": 32, "patch_size": 4, "head_width": 8, "mlp_ratio": 2.0}}}""");

    [Fact]
    public async Task An_open_clip_repository_folder_is_read_with_its_config_and_its_other_files_are_listed_as_skipped()
    {
        var weights = await File.ReadAllBytesAsync(ClipTiny.File("open_clip.safetensors"));
        var (status, body) = await UploadAsync("/checkpoints?name=open-clip-repo",
            ("open_clip_model.safetensors", weights), ("open_clip_pytorch_model.bin", Encoding.UTF8.GetBytes("not read: the safetensors file is")),
            ("open_clip_config.json", OpenClipConfig), ("README.md", Encoding.UTF8.GetBytes("# a model card\n")),
            (".gitattributes", Encoding.UTF8.GetBytes("*.bin filter=lfs\n")), ("training_args.bin", Encoding.UTF8.GetBytes("a pickled TrainingArguments")));

        Assert.True(status == HttpStatusCode.Created, body.ToString());
        Assert.Equal("open_clip", body.GetProperty("layout").GetString());
        Assert.False(body.GetProperty("configInferred").GetBoolean());
        Assert.Equal(4, body.GetProperty("config").GetProperty("numAttentionHeads").GetInt32());
        Assert.Equal(["open_clip_config.json", "open_clip_model.safetensors"],
            body.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("fileName").GetString()).Order(StringComparer.Ordinal));
        var skipped = body.GetProperty("skippedFiles").EnumerateArray().ToDictionary(f => f.GetProperty("fileName").GetString()!, f => f.GetProperty("reason").GetString()!);
        Assert.Equal([".gitattributes", "README.md", "open_clip_pytorch_model.bin", "training_args.bin"], skipped.Keys.Order(StringComparer.Ordinal));
        Assert.StartsWith("the same model's weights in another format", skipped["open_clip_pytorch_model.bin"], StringComparison.Ordinal);
        Assert.StartsWith("training state", skipped["training_args.bin"], StringComparison.Ordinal);
        Assert.StartsWith("no registered architecture reads it", skipped["README.md"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Files_put_one_by_one_are_sealed_with_the_weights_read_and_the_second_format_removed()
    {
        using var opened = await service.Client.PostAsync("/checkpoints/open?name=by-file", null);
        var id = (await opened.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        foreach (var (name, bytes) in new[]
        {
            ("model.safetensors", await File.ReadAllBytesAsync(ClipTiny.File("model.safetensors"))), ("config.json", await File.ReadAllBytesAsync(ClipTiny.File("config.json"))),
            ("pytorch_model.bin", Encoding.UTF8.GetBytes("the same weights, pickled")),
        })
        {
            using var put = await service.Client.PutAsync($"/checkpoints/{id}/files/{name}", new ByteArrayContent(bytes));
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }
        using var readme = await service.Client.PutAsync($"/checkpoints/{id}/files/README.md", new ByteArrayContent(Encoding.UTF8.GetBytes("# card")));
        var afterReadme = await readme.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("README.md", afterReadme.GetProperty("skippedFiles")[0].GetProperty("fileName").GetString());
        Assert.DoesNotContain(afterReadme.GetProperty("files").EnumerateArray(), f => f.GetProperty("fileName").GetString() == "README.md");

        using var sealedResponse = await service.Client.PostAsync($"/checkpoints/{id}/seal", null);
        var sealedBody = await sealedResponse.Content.ReadFromJsonAsync<JsonElement>();

        Assert.True(sealedResponse.StatusCode == HttpStatusCode.OK, sealedBody.ToString());
        Assert.Equal("hugging_face_clip_vision", sealedBody.GetProperty("layout").GetString());
        Assert.Equal(["config.json", "model.safetensors"],
            sealedBody.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("fileName").GetString()).Order(StringComparer.Ordinal));
        Assert.Equal("pytorch_model.bin", sealedBody.GetProperty("skippedFiles")[0].GetProperty("fileName").GetString());
    }

    private async Task<(HttpStatusCode, JsonElement)> UploadAsync(string path, params (string Name, byte[] Bytes)[] files)
    {
        using var content = TinyService.Multipart(files);
        using var response = await service.Client.PostAsync(path, content);
        return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
    }
}
