using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AdaMerging.Tests.Support;
using Microsoft.EntityFrameworkCore;

namespace AdaMerging.Tests.Api;

/// <summary>The API as a real process, killed with SIGKILL in the middle of a streamed upload.</summary>
public sealed class ApiCrashTests(ServiceFixture service) : IClassFixture<ServiceFixture>, IDisposable
{
    private readonly TempDirectory _files = new();

    public void Dispose() => _files.Dispose();

    private string Temp => Path.Combine(service.DataRoot, "blobs", "tmp");

    private static int FreePort() => ApiProcess.FreePort();

    private Task<(ServiceProcess Api, HttpClient Client)> StartApiAsync(int port, string secret) =>
        ApiProcess.StartAsync(service, port, secret, _files.File("api.log"));

    /// <summary>A body that sends its first part, then stalls until the test lets it go (or the connection dies).</summary>
    private sealed class StallingContent(byte[] bytes, int before, TaskCompletionSource release) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(bytes.AsMemory(0, before));
            await stream.FlushAsync();
            await release.Task;
            await stream.WriteAsync(bytes.AsMemory(before));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = bytes.Length;
            return true;
        }
    }

    [Fact]
    public async Task Kestrel_refuses_oversized_headers_before_any_handler_and_keeps_serving()
    {
        var secret = await service.CreateKeyAsync("headers");
        var (api, client) = await StartApiAsync(FreePort(), secret);
        using (api)
        using (client)
        {
            using var message = new HttpRequestMessage(HttpMethod.Get, "/merges");
            message.Headers.TryAddWithoutValidation("X-Padding", new string('h', 64 << 10));
            using var response = await client.SendAsync(message);
            Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, response.StatusCode);
            using var after = await client.GetAsync("/merges");
            Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        }
    }

    /// <summary>
    /// A body that trickles one byte a second: what a slow-loris client sends. The pause is the client's pace, the
    /// input under test, not a wait for an outcome (the test measures how soon the server cuts it off).
    /// </summary>
    private sealed class DrippingContent(int seconds) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            for (int i = 0; i < seconds; i++)
            {
                await stream.WriteAsync(new byte[] { 0 });
                await stream.FlushAsync();
                await Task.Delay(1000);
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 1 << 20;
            return true;
        }
    }

    [Fact]
    public async Task A_slow_drip_upload_is_cut_off_keeps_nothing_and_the_server_keeps_serving()
    {
        var secret = await service.CreateKeyAsync("drip");
        var (api, client) = await StartApiAsync(FreePort(), secret);
        using (api)
        using (client)
        {
            var before = Directory.GetFiles(Temp).ToHashSet();
            var drip = new DrippingContent(seconds: 60);
            drip.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                using var response = await client.PostAsync("/checkpoints?name=drip", drip);
                Assert.True((int)response.StatusCode is >= 400 and < 500, $"a slow drip was answered {(int)response.StatusCode}");
            }
            catch (HttpRequestException)
            {
                // Kestrel closed the connection under the minimum data rate: the expected outcome
            }
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"the drip held a request open for {clock.Elapsed}");
            // The handler removes its staged file once the connection is cut: wait for that, with a deadline.
            await Poll.UntilAsync(() => !Directory.GetFiles(Temp).Except(before).Any(), TimeSpan.FromSeconds(10),
                () => "the drip's staged file is still there: " + string.Join(", ", Directory.GetFiles(Temp).Except(before)), everyMilliseconds: 50);
            await using (var db = service.NewDbContext())
                Assert.False(await db.Checkpoints.AnyAsync(c => c.Owner == "drip"));
            using var after = await client.GetAsync("/merges");
            Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        }
    }

    [Fact]
    public async Task A_SIGKILLed_upload_leaves_no_blob_or_row_and_the_retry_succeeds()
    {
        var secret = await service.CreateKeyAsync("crash");
        var bytes = await File.ReadAllBytesAsync(ClipTiny.File("model.safetensors"));
        int port = FreePort();
        var (api, client) = await StartApiAsync(port, secret);
        var before = Directory.GetFiles(Temp).ToHashSet();
        var release = new TaskCompletionSource();
        var stalling = new StallingContent(bytes, bytes.Length / 2, release);
        stalling.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
        var upload = client.PostAsync("/checkpoints?name=cut", stalling);
        await Poll.UntilAsync(() => Directory.GetFiles(Temp).Except(before).Any(), TimeSpan.FromSeconds(30), "the upload never reached the temp folder", everyMilliseconds: 20);
        api.Kill();
        release.SetResult();
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => upload);
        Assert.NotEmpty(Directory.GetFiles(Temp).Except(before)); // the half-written upload, never a blob
        await using (var db = service.NewDbContext())
            Assert.False(await db.Checkpoints.AnyAsync(c => c.Owner == "crash"));
        var blobsBefore = Directory.GetFiles(Path.Combine(service.DataRoot, "blobs", "sha256"), "*", SearchOption.AllDirectories).Length;
        api.Dispose();

        // The restarted API sweeps what the killed one left; the client's retry succeeds, stored once.
        (api, client) = await StartApiAsync(port, secret);
        using (api)
        using (client)
        {
            Assert.Empty(Directory.GetFiles(Temp).Except(before));
            using var whole = new ByteArrayContent(bytes);
            whole.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
            using var retry = await client.PostAsync("/checkpoints?name=cut", whole);
            var body = await retry.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(retry.StatusCode == HttpStatusCode.Created, body.ToString());
            await using var db = service.NewDbContext();
            Assert.Equal(1, await db.Checkpoints.CountAsync(c => c.Owner == "crash"));
            Assert.InRange(Directory.GetFiles(Path.Combine(service.DataRoot, "blobs", "sha256"), "*", SearchOption.AllDirectories).Length,
                blobsBefore, blobsBefore + 1);
        }
    }
}
