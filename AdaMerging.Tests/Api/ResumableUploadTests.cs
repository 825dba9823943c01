using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using AdaMerging.Tests.Support;

namespace AdaMerging.Tests.Api;

/// <summary>tus 1.0 resumable uploads of checkpoint files: a cut upload resumes from the server's offset (issue 15).</summary>
public sealed class ResumableUploadTests(ServiceFixture service) : TempDirectoryTests, IClassFixture<ServiceFixture>
{
    /// <summary>Sends the first part, waits, then fails as a dropped network does: the connection is aborted mid-body.</summary>
    private sealed class CutContent(byte[] bytes, int cutAt, TaskCompletionSource cut) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(bytes.AsMemory(0, cutAt));
            await stream.FlushAsync();
            await cut.Task;
            throw new IOException("the network went away");
        }

        protected override bool TryComputeLength(out long length)
        {
            length = bytes.Length;
            return true;
        }
    }

    private static async Task<string> OpenCheckpointAsync(HttpClient client, string name)
    {
        using var open = await client.PostAsync($"/checkpoints/open?name={name}", null);
        Assert.Equal(HttpStatusCode.Created, open.StatusCode);
        var id = (await open.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        using var config = await client.PutAsync($"/checkpoints/{id}/files/config.json", new ByteArrayContent(await File.ReadAllBytesAsync(ClipTiny.File("config.json"))));
        Assert.Equal(HttpStatusCode.OK, config.StatusCode);
        return id;
    }

    [Fact]
    public async Task An_upload_cut_at_60_percent_resumes_from_the_servers_offset_and_stores_the_exact_bytes()
    {
        var secret = await service.CreateKeyAsync("resumer");
        var (api, client) = await ApiProcess.StartAsync(service, ApiProcess.FreePort(), secret, Dir.File("api.log"));
        using (api)
        using (client)
        {
            var bytes = await System.IO.File.ReadAllBytesAsync(ClipTiny.File("model.safetensors"));
            var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
            var checkpoint = await OpenCheckpointAsync(client, "resumed");
            var location = await Tus.CreateAsync(client, checkpoint, "model.safetensors", bytes);

            int cutAt = bytes.Length * 6 / 10;
            var cut = new TaskCompletionSource();
            using var first = Tus.Patch(location, 0, new CutContent(bytes, cutAt, cut));
            var sending = client.SendAsync(first);
            await Poll.UntilAsync(async () => await Tus.OffsetAsync(client, location) >= cutAt, TimeSpan.FromSeconds(30),
                () => "the first 60 % never reached the server", everyMilliseconds: 20);
            cut.SetResult();
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => sending);
            Assert.Equal(cutAt, await Tus.OffsetAsync(client, location)); // exactly what arrived, kept

            HttpResponseMessage? resumed = null;
            await Poll.UntilAsync(async () => // the server may not have seen the cut yet: its PATCH holds the upload (423) until it does
            {
                resumed?.Dispose();
                using var rest = Tus.Patch(location, cutAt, new ByteArrayContent(bytes[cutAt..]));
                resumed = await client.SendAsync(rest);
                return resumed.StatusCode != HttpStatusCode.Locked;
            }, TimeSpan.FromSeconds(20), () => "the upload stayed locked after the cut");
            using (var response = resumed!)
            {
                Assert.True(response.StatusCode == HttpStatusCode.NoContent, await response.Content.ReadAsStringAsync());
                Assert.Equal(bytes.Length.ToString(CultureInfo.InvariantCulture), response.Headers.GetValues("Upload-Offset").Single());
            }

            using var sealedResponse = await client.PostAsync($"/checkpoints/{checkpoint}/seal", null);
            var sealedCheckpoint = await sealedResponse.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(sealedResponse.StatusCode == HttpStatusCode.OK, sealedCheckpoint.ToString());
            Assert.Equal("Sealed", sealedCheckpoint.GetProperty("status").GetString(), ignoreCase: true);
            var file = sealedCheckpoint.GetProperty("files").EnumerateArray().Single(f => f.GetProperty("fileName").GetString() == "model.safetensors");
            Assert.Equal(sha, file.GetProperty("sha256").GetString());
            var blob = Path.Combine(service.DataRoot, "blobs", "sha256", sha[..2], sha);
            Assert.Equal(sha, Convert.ToHexStringLower(SHA256.HashData(await System.IO.File.ReadAllBytesAsync(blob))));
            Assert.Empty(Directory.GetFiles(Path.Combine(service.DataRoot, "blobs", "uploads"), Guid.Parse(location[(location.LastIndexOf('/') + 1)..]).ToString("N")));
            var state = await client.GetFromJsonAsync<JsonElement>(location);
            Assert.True(state.GetProperty("complete").GetBoolean());
        }
    }

    [Fact]
    public async Task Tus_requests_without_the_version_a_wrong_offset_or_media_type_are_refused_with_what_to_do()
    {
        using var options = new HttpRequestMessage(HttpMethod.Options, "/uploads");
        using var advertised = await service.Client.SendAsync(options);
        Assert.Equal("1.0.0", advertised.Headers.GetValues("Tus-Version").Single());
        Assert.Equal("creation,expiration,termination", advertised.Headers.GetValues("Tus-Extension").Single());
        Assert.True(long.Parse(advertised.Headers.GetValues("Tus-Max-Size").Single(), CultureInfo.InvariantCulture) > 0);

        using var noVersion = new HttpRequestMessage(HttpMethod.Post, "/uploads");
        using var refused = await service.Client.SendAsync(noVersion);
        Assert.Equal(HttpStatusCode.PreconditionFailed, refused.StatusCode);
        Assert.Equal("1.0.0", refused.Headers.GetValues("Tus-Version").Single());

        using var empty = Tus.Create(10, "filename bm90IGJhc2U2NA==,sha256 ???");
        empty.Headers.Remove("Upload-Length");
        var problems = Problems.Text(await Problems.ReadAsync(await service.Client.SendAsync(empty), HttpStatusCode.BadRequest));
        Assert.Contains("Upload-Length", problems, StringComparison.Ordinal);
        Assert.Contains("needs checkpoint", problems, StringComparison.Ordinal);
        Assert.Contains("'sha256' is not base64", problems, StringComparison.Ordinal);

        var bytes = await System.IO.File.ReadAllBytesAsync(ClipTiny.File("model.safetensors"));
        var location = await Tus.CreateAsync(service.Client, await OpenCheckpointAsync(service.Client, "protocol"), "model.safetensors", bytes);
        using var wrongOffset = Tus.Patch(location, 5, new ByteArrayContent(bytes[5..]));
        using var conflict = await service.Client.SendAsync(wrongOffset);
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        Assert.Equal("0", conflict.Headers.GetValues("Upload-Offset").Single());
        using var wrongType = Tus.Patch(location, 0, new ByteArrayContent(bytes));
        wrongType.Content!.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
        using var unsupported = await service.Client.SendAsync(wrongType);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, unsupported.StatusCode);
        Assert.Equal(0, await Tus.OffsetAsync(service.Client, location));

        using var terminate = new HttpRequestMessage(HttpMethod.Delete, location);
        terminate.Headers.Add("Tus-Resumable", "1.0.0");
        Assert.Equal(HttpStatusCode.NoContent, (await service.Client.SendAsync(terminate)).StatusCode);
        using var gone = await Tus.HeadAsync(service.Client, location);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task A_completed_upload_whose_sha256_differs_from_the_declared_one_is_discarded_with_a_422()
    {
        var bytes = await System.IO.File.ReadAllBytesAsync(ClipTiny.File("model.safetensors"));
        var checkpoint = await OpenCheckpointAsync(service.Client, "corrupt");
        var location = await Tus.CreateAsync(service.Client, checkpoint, "model.safetensors", bytes, sha256: new string('0', 64));
        using var patch = Tus.Patch(location, 0, new ByteArrayContent(bytes));
        var problem = await Problems.ReadAsync(await service.Client.SendAsync(patch), HttpStatusCode.UnprocessableEntity);
        Assert.Equal("checksum_mismatch", problem.GetProperty("code").GetString());
        Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(bytes)), Problems.Text(problem), StringComparison.Ordinal);
        using var head = await Tus.HeadAsync(service.Client, location);
        Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
        Assert.Empty(Directory.GetFiles(Path.Combine(service.DataRoot, "blobs", "uploads"), Guid.Parse(location[(location.LastIndexOf('/') + 1)..]).ToString("N")));
        var stored = await service.Client.GetFromJsonAsync<JsonElement>($"/checkpoints/{checkpoint}");
        Assert.DoesNotContain(stored.GetProperty("files").EnumerateArray(), f => f.GetProperty("fileName").GetString() == "model.safetensors");
    }
}
