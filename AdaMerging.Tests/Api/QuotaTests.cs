using System.Net;
using System.Net.Http.Json;
using AdaMerging.Tests.Support;

namespace AdaMerging.Tests.Api;

/// <summary>The service with tight per-owner limits: 1 active merge, 250 kB stored (the request rate: RateLimitTests).</summary>
public sealed class SmallQuotaServiceFixture : ServiceFixture
{
    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
    [
        new("AdaMerging:MaxActiveMergesPerOwner", "1"),
        new("AdaMerging:MaxStoredBytesPerOwner", "250000"),
    ];
}

public sealed class QuotaTests(SmallQuotaServiceFixture service) : IClassFixture<SmallQuotaServiceFixture>, IDisposable
{
    private readonly TempDirectory _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task Past_the_owners_limits_uploads_get_413_and_merges_429_and_other_owners_are_unaffected()
    {
        var inputs = await TinyService.UploadAsync(service, _files, tasks: 1, seed: 51); // about 210 kB of the 250 kB allowed
        var model = await File.ReadAllBytesAsync(ClipTiny.File("model.safetensors"));  // 85 kB more is too much
        using (var content = new ByteArrayContent(model))
        using (var refused = await service.Client.PostAsync("/checkpoints", content))
            Assert.Contains("exceeds the limit", Problems.Text(await Problems.ReadAsync(refused, HttpStatusCode.RequestEntityTooLarge)), StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(Path.Combine(service.DataRoot, "blobs", "tmp")));

        // A long AdaMerging holds the owner's one slot; a second merge is refused until it ends.
        using var first = await service.Client.PostAsJsonAsync("/merges", new
        {
            method = "adamerging", @base = inputs.Base, tasks = inputs.TaskJson(), options = new { steps = 100_000, batchSize = 4 },
        });
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        using var second = await service.Client.PostAsJsonAsync("/merges", new
        {
            method = "task_arithmetic", @base = inputs.Base, tasks = new[] { new { name = "a", checkpoint = inputs.Tasks[0].Checkpoint } },
        });
        var quota = await Problems.ReadAsync(second, HttpStatusCode.TooManyRequests);
        Assert.Contains("the limit of 1", Problems.Text(quota), StringComparison.Ordinal);
        Assert.Equal(("merge_quota_exceeded", "urn:adamerging:problem:merge_quota_exceeded"), (quota.GetProperty("code").GetString(), quota.GetProperty("type").GetString()));
        Assert.True(second.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), "a quota 429 says when to retry");
        using (var cancel = await service.Client.PostAsync(first.Headers.Location + "/cancel", null))
            Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);

        var bob = await service.ClientForAsync("bob");
        using var bobs = new ByteArrayContent(model);
        using var bobUpload = await bob.PostAsync("/checkpoints", bobs);
        Assert.Equal(HttpStatusCode.Created, bobUpload.StatusCode);
    }
}
