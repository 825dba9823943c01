using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using AdaMerging.Tests.Support;
using TorchSharp;

namespace AdaMerging.Tests.Api;

/// <summary>
/// Heads and datasets as tus resumable uploads (metadata resource: head | dataset): sent in parts as after a dropped
/// connection, checked like a one-request upload when the last byte arrives, and named in GET /uploads/{id} (issue 19).
/// </summary>
public sealed class ResumableResourceUploadTests(ServiceFixture service) : TempDirectoryTests, IClassFixture<ServiceFixture>
{
    private static async Task<string> CreateAsync(HttpClient client, string resource, string name, string fileName, byte[] bytes)
    {
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
        using var request = Tus.Create(bytes.Length, Tus.Metadata(("resource", resource), ("name", name), ("filename", fileName), ("sha256", sha256)));
        using var response = await client.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return response.Headers.Location!.ToString();
    }

    /// <summary>The bytes in two PATCHes, the second from the offset HEAD reports, as a client does after a cut.</summary>
    private static async Task<HttpResponseMessage> SendInTwoPartsAsync(HttpClient client, string location, byte[] bytes)
    {
        var half = bytes.Length / 2;
        using (var first = Tus.Patch(location, 0, new ByteArrayContent(bytes[..half])))
            Assert.Equal(HttpStatusCode.NoContent, (await client.SendAsync(first)).StatusCode);
        var offset = await Tus.OffsetAsync(client, location);
        Assert.Equal(half, offset);
        using var rest = Tus.Patch(location, offset, new ByteArrayContent(bytes[(int)offset..]));
        return await client.SendAsync(rest);
    }

    [Fact]
    public async Task A_dataset_and_a_head_sent_in_parts_become_resources_with_the_exact_bytes_and_their_names()
    {
        var data = Dir.File("data.safetensors");
        TestCheckpoints.Save(data, new Dictionary<string, torch.Tensor>
        {
            ["pixel_values"] = torch.randint(0, 256, [20, 3, 16, 16]).to_type(torch.ScalarType.Byte),
            ["labels"] = torch.randint(0, 5, [20]),
        });
        foreach (var (resource, name, path, fileName) in new[]
                 { ("dataset", "resumed images", data, "data.safetensors"), ("head", "resumed head", ClipTiny.File("head.safetensors"), "head.safetensors") })
        {
            var bytes = await File.ReadAllBytesAsync(path);
            var location = await CreateAsync(service.Client, resource, name, fileName, bytes);
            using (var done = await SendInTwoPartsAsync(service.Client, location, bytes))
                Assert.Equal(HttpStatusCode.NoContent, done.StatusCode);

            var upload = await service.Client.GetFromJsonAsync<JsonElement>(location);
            Assert.True(upload.GetProperty("complete").GetBoolean());
            Assert.Equal(resource, upload.GetProperty("target").GetString());
            var made = await service.Client.GetFromJsonAsync<JsonElement>(upload.GetProperty("resource").GetString());
            Assert.Equal(name, made.GetProperty("name").GetString());
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), made.GetProperty("sha256").GetString());
            Assert.Equal(bytes.Length, made.GetProperty("bytes").GetInt64());
            if (resource == "dataset") Assert.Equal(20, made.GetProperty("count").GetInt32());
            else Assert.Equal(5, made.GetProperty("classes").GetInt32());
        }
    }

    [Fact]
    public async Task A_file_that_is_not_a_usable_head_is_refused_when_complete_and_leaves_nothing_behind()
    {
        var bytes = await File.ReadAllBytesAsync(ClipTiny.File("config.json")); // JSON, not safetensors
        var heads = (await service.Client.GetFromJsonAsync<JsonElement>("/heads?limit=100")).GetProperty("data").GetArrayLength();
        var location = await CreateAsync(service.Client, "head", "not a head", "head.safetensors", bytes);
        using var refused = await SendInTwoPartsAsync(service.Client, location, bytes);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("not a usable head", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await service.Client.GetAsync(location)).StatusCode);
        Assert.Equal(heads, (await service.Client.GetFromJsonAsync<JsonElement>("/heads?limit=100")).GetProperty("data").GetArrayLength());
    }

    [Fact]
    public async Task Creation_names_a_target_that_is_both_or_neither_or_unknown()
    {
        var sha = new string('0', 64);
        foreach (var (metadata, expected) in new[]
                 {
                     (Tus.Metadata(("resource", "head"), ("checkpoint", Guid.NewGuid().ToString()), ("filename", "h.safetensors"), ("sha256", sha)), "both checkpoint and resource"),
                     (Tus.Metadata(("resource", "model"), ("filename", "h.safetensors"), ("sha256", sha)), "head or dataset, not 'model'"),
                     (Tus.Metadata(("filename", "h.safetensors"), ("sha256", sha)), "needs checkpoint"),
                 })
        {
            using var request = Tus.Create(10, metadata);
            using var response = await service.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var errors = Problems.Errors(await response.Content.ReadFromJsonAsync<JsonElement>());
            Assert.Contains(errors, e => e.Detail.Contains(expected, StringComparison.Ordinal) && e is { Pointer: null, Code: "invalid_header" });
        }
    }
}
