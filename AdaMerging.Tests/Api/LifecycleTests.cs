using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AdaMerging.Infrastructure.Blobs;
using AdaMerging.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using TorchSharp;

namespace AdaMerging.Tests.Api;

/// <summary>Blobs are collected at once (no grace period) and each owner may store 400 kB.</summary>
public sealed class LifecycleFixture : ServiceFixture
{
    public const long StorageLimit = 400_000;

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
    [
        new("AdaMerging:BlobGraceSeconds", "0"),
        new("AdaMerging:MaxStoredBytesPerOwner", StorageLimit.ToString(System.Globalization.CultureInfo.InvariantCulture)),
    ];
}

/// <summary>Lists by cursor, deletes that free space and blobs, and 409 for what a queued or running merge uses (issue 15).</summary>
public sealed class LifecycleTests(LifecycleFixture service) : TempDirectoryTests, IClassFixture<LifecycleFixture>
{
    private BlobStore Blobs => service.ApiServices.GetRequiredService<BlobStore>();

    private async Task<JsonElement> PostDatasetAsync(HttpClient client, int seed, int images = 4)
    {
        var path = Dir.File($"data{seed}-{images}.safetensors");
        TestCheckpoints.Save(path, new Dictionary<string, torch.Tensor> { ["pixel_values"] = torch.randn([images, 3, 16, 16], generator: new torch.Generator((ulong)seed)) });
        using var body = new ByteArrayContent(await File.ReadAllBytesAsync(path));
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await client.PostAsync($"/datasets?name=d{seed}", body);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.Created, json.ToString());
        return json;
    }

    [Fact]
    public async Task Lists_page_newest_first_by_cursor_and_stay_stable_while_new_items_arrive()
    {
        var client = await service.ClientForAsync("lister");
        var ids = new List<string>();
        for (int i = 0; i < 3; i++) ids.Add((await PostDatasetAsync(client, 100 + i)).GetProperty("id").GetString()!);

        var first = await client.GetFromJsonAsync<JsonElement>("/datasets?limit=2");
        Assert.Equal([ids[2], ids[1]], first.GetProperty("data").EnumerateArray().Select(d => d.GetProperty("id").GetString()));
        Assert.True(first.GetProperty("hasMore").GetBoolean());
        await PostDatasetAsync(client, 200); // arrives between the pages: before the first page, not in the second
        var second = await client.GetFromJsonAsync<JsonElement>($"/datasets?limit=2&after={first.GetProperty("lastId").GetString()}");
        Assert.Equal([ids[0]], second.GetProperty("data").EnumerateArray().Select(d => d.GetProperty("id").GetString()));
        Assert.False(second.GetProperty("hasMore").GetBoolean());

        var others = await service.Client.GetFromJsonAsync<JsonElement>("/datasets?limit=100");
        Assert.DoesNotContain(others.GetProperty("data").EnumerateArray(), d => ids.Contains(d.GetProperty("id").GetString()!));
        await Problems.ReadAsync(await client.GetAsync("/datasets?limit=0"), HttpStatusCode.BadRequest);
        await Problems.ReadAsync(await client.GetAsync($"/checkpoints?after={Guid.NewGuid()}"), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Lists_filtered_by_sha256_find_only_the_callers_resources_holding_those_bytes()
    {
        var client = await service.ClientForAsync("digests");
        var kept = await PostDatasetAsync(client, 300);
        await PostDatasetAsync(client, 301);
        var sha = kept.GetProperty("sha256").GetString()!;
        var found = await client.GetFromJsonAsync<JsonElement>($"/datasets?sha256={sha.ToUpperInvariant()}");   // hex in either case
        Assert.Equal([kept.GetProperty("id").GetString()], found.GetProperty("data").EnumerateArray().Select(d => d.GetProperty("id").GetString()));
        var others = await service.Client.GetFromJsonAsync<JsonElement>($"/datasets?sha256={sha}");   // another owner's bytes are not theirs
        Assert.Empty(others.GetProperty("data").EnumerateArray());

        var folder = TinyService.Multipart(("model.safetensors", await File.ReadAllBytesAsync(ClipTiny.File("model.safetensors"))),
            ("config.json", await File.ReadAllBytesAsync(ClipTiny.File("config.json"))));
        using var uploaded = await client.PostAsync("/checkpoints?name=digest", folder);
        var checkpoint = await uploaded.Content.ReadFromJsonAsync<JsonElement>();
        foreach (var file in checkpoint.GetProperty("files").EnumerateArray())   // a checkpoint is found by any of its files
        {
            var byFile = await client.GetFromJsonAsync<JsonElement>($"/checkpoints?sha256={file.GetProperty("sha256").GetString()}");
            Assert.Equal([checkpoint.GetProperty("id").GetString()], byFile.GetProperty("data").EnumerateArray().Select(c => c.GetProperty("id").GetString()));
        }
        var problem = await Problems.ReadAsync(await client.GetAsync("/heads?sha256=abc"), HttpStatusCode.BadRequest);
        Assert.Equal("invalid", problem.GetProperty("errors")[0].GetProperty("code").GetString());
    }

    [Fact]
    public async Task Deleting_frees_the_owner_s_storage_and_removes_a_blob_only_when_nothing_else_uses_the_same_bytes()
    {
        var client = await service.ClientForAsync("full");
        var a = await PostDatasetAsync(client, 1, images: 48);
        var twin = await PostDatasetAsync(client, 1, images: 48); // the same bytes: one blob
        var sha = a.GetProperty("sha256").GetString()!;
        Assert.Equal(sha, twin.GetProperty("sha256").GetString());
        long bytes = a.GetProperty("bytes").GetInt64();
        Assert.True(2 * bytes < LifecycleFixture.StorageLimit && 3 * bytes > LifecycleFixture.StorageLimit, $"{bytes} bytes do not fill the limit in three");
        var full = await PostDatasetAsyncRaw(client, 2, images: 48);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, full.StatusCode);

        using (var deleted = await client.DeleteAsync($"/datasets/{a.GetProperty("id").GetString()}")) Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.True(Blobs.Exists(sha), "the twin still uses the blob");
        await Problems.ReadAsync(await client.GetAsync($"/datasets/{a.GetProperty("id").GetString()}"), HttpStatusCode.NotFound);
        using (var deleted = await client.DeleteAsync($"/datasets/{twin.GetProperty("id").GetString()}")) Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.False(Blobs.Exists(sha), "nothing uses the blob any more");

        await PostDatasetAsync(client, 2, images: 48); // the space is free again
        await Problems.ReadAsync(await client.DeleteAsync($"/datasets/{Guid.NewGuid()}"), HttpStatusCode.NotFound);
        await Problems.ReadAsync(await service.Client.DeleteAsync($"/datasets/{twin.GetProperty("id").GetString()}"), HttpStatusCode.NotFound);
    }

    private async Task<HttpResponseMessage> PostDatasetAsyncRaw(HttpClient client, int seed, int images)
    {
        var path = Dir.File($"raw{seed}.safetensors");
        TestCheckpoints.Save(path, new Dictionary<string, torch.Tensor> { ["pixel_values"] = torch.randn([images, 3, 16, 16], generator: new torch.Generator((ulong)seed)) });
        var body = new ByteArrayContent(await File.ReadAllBytesAsync(path));
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return await client.PostAsync("/datasets", body);
    }

    [Fact]
    public async Task What_a_running_merge_uses_cannot_be_deleted_until_it_ends_and_a_deleted_merge_takes_its_results_along()
    {
        var inputs = await TinyService.UploadAsync(service, Dir, tasks: 2, seed: 41);
        using var submitted = await service.Client.PostAsJsonAsync("/merges", new
        {
            method = "adamerging", @base = inputs.Base, tasks = inputs.TaskJson(), options = new { steps = 100_000, batchSize = 4 },
        });
        var mergeId = (await submitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();

        var inUse = await Problems.ReadAsync(await service.Client.DeleteAsync($"/checkpoints/{inputs.Base}"), HttpStatusCode.Conflict);
        Assert.Contains($"used by queued or running merge {mergeId}", inUse.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await Problems.ReadAsync(await service.Client.DeleteAsync($"/heads/{inputs.Head}"), HttpStatusCode.Conflict);
        var running = await Problems.ReadAsync(await service.Client.DeleteAsync($"/merges/{mergeId}"), HttpStatusCode.Conflict);
        Assert.Contains("cancel it first", running.GetProperty("detail").GetString(), StringComparison.Ordinal);

        (await service.Client.PostAsync($"/merges/{mergeId}/cancel", null)).Dispose();
        Assert.Equal("cancelled", (await service.WaitForMergeAsync($"/merges/{mergeId}")).GetProperty("status").GetString());
        using (var deleted = await service.Client.DeleteAsync($"/merges/{mergeId}")) Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await Problems.ReadAsync(await service.Client.GetAsync($"/merges/{mergeId}"), HttpStatusCode.NotFound);

        using var done = await service.Client.PostAsJsonAsync("/merges", new { method = "task_arithmetic", @base = inputs.Base, tasks = inputs.TaskJson() });
        var finished = await service.WaitForMergeAsync(done.Headers.Location!.ToString());
        Assert.Equal("succeeded", finished.GetProperty("status").GetString());
        var model = await service.Client.GetByteArrayAsync(done.Headers.Location + "/model");
        var modelSha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(model));
        Assert.True(Blobs.Exists(modelSha));
        using (var deleted = await service.Client.DeleteAsync(done.Headers.Location)) Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.False(Blobs.Exists(modelSha), "the merged model's blob is removed with its merge");
        using (var deleted = await service.Client.DeleteAsync($"/checkpoints/{inputs.Base}")) Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
    }
}
