using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AdaMerging.Tests.Support;

namespace AdaMerging.Tests.Api;

/// <summary>What is kept only for a while goes: abandoned uploads with their partial bytes, and Idempotency-Keys (issue 15); the clock is moved, never waited for.</summary>
public sealed class ExpiryTests(FakeClockFixture service) : TempDirectoryTests, IClassFixture<FakeClockFixture>
{
    [Fact]
    public async Task An_abandoned_upload_expires_and_its_partial_file_is_removed()
    {
        var bytes = await File.ReadAllBytesAsync(ClipTiny.File("model.safetensors"));
        using var open = await service.Client.PostAsync("/checkpoints/open?name=abandoned", null);
        var checkpoint = (await open.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var location = await Tus.CreateAsync(service.Client, checkpoint, "model.safetensors", bytes);
        using (var half = Tus.Patch(location, 0, new ByteArrayContent(bytes[..(bytes.Length / 2)])))
            Assert.Equal(HttpStatusCode.NoContent, (await service.Client.SendAsync(half)).StatusCode);
        var partial = Path.Combine(service.DataRoot, "blobs", "uploads", Guid.Parse(location[(location.LastIndexOf('/') + 1)..]).ToString("N"));
        Assert.Equal(bytes.Length / 2, new FileInfo(partial).Length);

        // A second before its expiry (counted from its last PATCH) a sweep keeps it, and it can be resumed.
        service.Time.Advance(TimeSpan.FromSeconds(FakeClockFixture.UploadSeconds - 1));
        await service.SweepAsync();
        using (var head = await Tus.HeadAsync(service.Client, location))
        {
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Equal($"{bytes.Length / 2}", head.Headers.GetValues("Upload-Offset").Single());
        }
        Assert.True(File.Exists(partial));

        service.Time.Advance(TimeSpan.FromSeconds(2));
        await service.SweepAsync();
        using (var head = await Tus.HeadAsync(service.Client, location))
            Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
        Assert.False(File.Exists(partial), "the abandoned upload's partial bytes are still on disk");
    }

    [Fact]
    public async Task An_expired_Idempotency_Key_starts_a_new_request_instead_of_replaying_or_refusing()
    {
        var inputs = await TinyService.UploadAsync(service, Dir, tasks: 1, seed: 91);
        async Task<HttpResponseMessage> Post(string method)
        {
            using var message = new HttpRequestMessage(HttpMethod.Post, "/merges")
            {
                Content = JsonContent.Create(new { method, @base = inputs.Base, tasks = inputs.TaskJson() }),
            };
            message.Headers.Add("Idempotency-Key", "expiring-key");
            return await service.Client.SendAsync(message);
        }
        using var first = await Post("task_arithmetic");
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        service.Time.Advance(TimeSpan.FromSeconds(FakeClockFixture.IdempotencyKeySeconds - 1));
        using (var reused = await Post("weight_averaging"))
            Assert.Equal(HttpStatusCode.UnprocessableEntity, reused.StatusCode); // within its lifetime: another request with it is refused
        service.Time.Advance(TimeSpan.FromSeconds(2));
        using var later = await Post("weight_averaging");
        Assert.Equal(HttpStatusCode.Accepted, later.StatusCode);
        Assert.NotEqual(first.Headers.Location, later.Headers.Location);
        await service.WaitForMergeAsync(first.Headers.Location!.ToString());
        await service.WaitForMergeAsync(later.Headers.Location!.ToString());
    }
}
