using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AdaMerging.Tests.Support;

namespace AdaMerging.Tests.Api;

/// <summary>The Idempotency-Key header as the IETF draft describes it, on merges and uploads (issue 15).</summary>
public sealed class IdempotencyTests(ServiceFixture service) : TempDirectoryTests, IClassFixture<ServiceFixture>
{
    /// <summary>A body that sends its first half, then waits until the test lets it finish.</summary>
    private sealed class StallingContent(byte[] bytes, TaskCompletionSource release) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(bytes.AsMemory(0, bytes.Length / 2));
            await stream.FlushAsync();
            await release.Task;
            await stream.WriteAsync(bytes.AsMemory(bytes.Length / 2));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = bytes.Length;
            return true;
        }
    }

    private static HttpRequestMessage Upload(HttpContent content, string key)
    {
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
        var message = new HttpRequestMessage(HttpMethod.Post, "/checkpoints?name=keyed") { Content = content };
        message.Headers.Add("Idempotency-Key", key);
        return message;
    }

    [Fact]
    public async Task A_retry_while_the_first_upload_runs_is_a_409_and_after_it_the_first_answer_is_replayed()
    {
        // A real Kestrel: the first request's handler runs while its body still streams in (the in-memory test server
        // would only call it once the whole body has arrived).
        var (api, client) = await ApiProcess.StartAsync(service, ApiProcess.FreePort(), await service.CreateKeyAsync("keyed-uploader"), Dir.File("api.log"));
        using (api)
        using (client)
        {
            var bytes = await File.ReadAllBytesAsync(ClipTiny.File("model.safetensors"));
            var release = new TaskCompletionSource();
            var temp = Path.Combine(service.DataRoot, "blobs", "tmp");
            var before = Directory.Exists(temp) ? Directory.GetFileSystemEntries(temp).ToHashSet() : [];
            using var first = Upload(new StallingContent(bytes, release), "upload-1");
            var running = client.SendAsync(first);
            // The handler writing its temporary file proves the first request holds the key (the middleware takes it
            // before the handler runs): only then may a retry be sent, or a retry could take the key first.
            await Poll.UntilAsync(() => Directory.Exists(temp) && Directory.GetFileSystemEntries(temp).Any(f => !before.Contains(f)),
                TimeSpan.FromSeconds(20), "the first upload never wrote its temporary file", everyMilliseconds: 20);
            HttpResponseMessage? concurrent = null;
            await Poll.UntilAsync(async () => // until the retry sees the key held
            {
                concurrent?.Dispose();
                using var retry = Upload(new ByteArrayContent(bytes), "upload-1");
                concurrent = await client.SendAsync(retry);
                return concurrent.StatusCode == HttpStatusCode.Conflict;
            }, TimeSpan.FromSeconds(20), () => $"a retry was never refused as concurrent (last: {(int?)concurrent?.StatusCode})", everyMilliseconds: 50);
            var problem = await Problems.ReadAsync(concurrent!, HttpStatusCode.Conflict);
            Assert.Equal("idempotency_key_in_use", problem.GetProperty("code").GetString());

            release.SetResult();
            using var created = await running;
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            using var again = Upload(new ByteArrayContent(bytes), "upload-1");
            using var replayed = await client.SendAsync(again);
            Assert.Equal(HttpStatusCode.Created, replayed.StatusCode);
            Assert.Equal(created.Headers.Location, replayed.Headers.Location);
            Assert.Equal("true", replayed.Headers.GetValues("Idempotent-Replayed").Single());
            Assert.Equal((await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString(),
                (await replayed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString());
        }
    }

    [Fact]
    public async Task A_refused_request_leaves_its_key_free_keys_are_per_owner_and_an_overlong_key_is_a_400()
    {
        var inputs = await TinyService.UploadAsync(service, Dir, tasks: 1, seed: 93);
        async Task<HttpResponseMessage> Post(HttpClient client, object body, string key)
        {
            using var message = new HttpRequestMessage(HttpMethod.Post, "/merges") { Content = JsonContent.Create(body) };
            message.Headers.Add("Idempotency-Key", key);
            return await client.SendAsync(message);
        }
        var valid = new { method = "task_arithmetic", @base = inputs.Base, tasks = inputs.TaskJson() };
        using (var refused = await Post(service.Client, new { method = "no_such_method", @base = inputs.Base, tasks = inputs.TaskJson() }, "fixable"))
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        using var accepted = await Post(service.Client, valid, "fixable");
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.False(accepted.Headers.Contains("Idempotent-Replayed"));

        using var bob = await service.ClientForAsync("bob-idempotency");
        using var bobs = await Post(bob, new { method = "task_arithmetic", @base = Guid.NewGuid(), tasks = new[] { new { name = "a", checkpoint = Guid.NewGuid() } } }, "fixable");
        Assert.Equal(HttpStatusCode.NotFound, bobs.StatusCode); // bob's own request ran: alice's key is not his

        using var overlong = await Post(service.Client, valid, new string('k', 256));
        Assert.Contains("Idempotency-Key must be 1-255", Problems.Text(await Problems.ReadAsync(overlong, HttpStatusCode.BadRequest)), StringComparison.Ordinal);
        await service.WaitForMergeAsync(accepted.Headers.Location!.ToString());
    }
}
