using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using AdaMerging.Infrastructure.Blobs;
using AdaMerging.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace AdaMerging.Tests.Api;

/// <summary>Merge results expire after the retention period: expiresAt says when, downloads then answer 410, blobs go, the report stays (issue 15).</summary>
public sealed class RetentionTests(FakeClockFixture service) : TempDirectoryTests, IClassFixture<FakeClockFixture>
{
    [Fact]
    public async Task Results_expire_after_the_retention_their_blobs_are_removed_and_the_report_stays()
    {
        var inputs = await TinyService.UploadAsync(service, Dir, tasks: 2, seed: 71);
        using var submitted = await service.Client.PostAsJsonAsync("/merges", new { method = "task_arithmetic", @base = inputs.Base, tasks = inputs.TaskJson() });
        Assert.True(submitted.StatusCode == HttpStatusCode.Accepted, await submitted.Content.ReadAsStringAsync());
        var location = submitted.Headers.Location!.ToString();
        var done = await service.WaitForMergeAsync(location);
        Assert.Equal("succeeded", done.GetProperty("status").GetString());
        var finishedAt = done.GetProperty("finishedAt").GetDateTimeOffset();
        Assert.Equal(finishedAt.AddSeconds(FakeClockFixture.ResultRetentionSeconds), done.GetProperty("expiresAt").GetDateTimeOffset());
        var model = await service.Client.GetByteArrayAsync(location + "/model");
        var sha = Convert.ToHexStringLower(SHA256.HashData(model));
        var blobs = service.ApiServices.GetRequiredService<BlobStore>();

        // A second before it expires, a sweep keeps everything.
        service.Time.Advance(finishedAt.AddSeconds(FakeClockFixture.ResultRetentionSeconds - 1) - service.Time.GetUtcNow());
        await service.SweepAsync();
        var kept = await service.Client.GetFromJsonAsync<JsonElement>(location);
        Assert.False(kept.GetProperty("resultsExpired").GetBoolean());
        Assert.Equal(model, await service.Client.GetByteArrayAsync(location + "/model"));
        Assert.True(blobs.Exists(sha));

        // Past it, the same sweep removes the results.
        service.Time.Advance(TimeSpan.FromSeconds(2));
        await service.SweepAsync();
        var expired = await service.Client.GetFromJsonAsync<JsonElement>(location);
        Assert.True(expired.GetProperty("resultsExpired").GetBoolean());
        Assert.Empty(expired.GetProperty("files").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, expired.GetProperty("links").GetProperty("model").ValueKind);
        var gone = await Problems.ReadAsync(await service.Client.GetAsync(location + "/model"), HttpStatusCode.Gone);
        Assert.Equal("results_expired", gone.GetProperty("code").GetString());
        Assert.False(blobs.Exists(sha), "the expired model's blob is still stored");
        using var report = await service.Client.GetAsync(location + "/report");
        Assert.Equal(HttpStatusCode.OK, report.StatusCode);
    }
}
