using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using AdaMerging.Infrastructure.Blobs;
using AdaMerging.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace AdaMerging.Tests.Api;

/// <summary>
/// Results kept 6 s, unfinished uploads 3 s, Idempotency-Keys 2 s, swept every second; blobs published in the last 5 s
/// are left alone (an upload's row is saved by then).
/// </summary>
public sealed class ShortRetentionFixture : ServiceFixture
{
    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
    [
        new("AdaMerging:ResultRetentionSeconds", "6"),
        new("AdaMerging:BlobSweepSeconds", "1"),
        new("AdaMerging:BlobGraceSeconds", "5"),
        new("AdaMerging:ResumableUploadSeconds", "3"),
        new("AdaMerging:IdempotencyKeySeconds", "2"),
    ];
}

/// <summary>Merge results expire after the retention period: expiresAt says when, downloads then answer 410, blobs go, the report stays (issue 15).</summary>
public sealed class RetentionTests(ShortRetentionFixture service) : TempDirectoryTests, IClassFixture<ShortRetentionFixture>
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
        Assert.Equal(done.GetProperty("finishedAt").GetDateTimeOffset().AddSeconds(6), done.GetProperty("expiresAt").GetDateTimeOffset());
        var model = await service.Client.GetByteArrayAsync(location + "/model");
        var sha = Convert.ToHexStringLower(SHA256.HashData(model));

        JsonElement expired = done;
        for (int i = 0; i < 100 && !expired.GetProperty("resultsExpired").GetBoolean(); i++)
        {
            await Task.Delay(200);
            expired = await service.Client.GetFromJsonAsync<JsonElement>(location);
        }
        Assert.True(expired.GetProperty("resultsExpired").GetBoolean(), "the results did not expire within 20 s");
        Assert.Empty(expired.GetProperty("files").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, expired.GetProperty("links").GetProperty("model").ValueKind);
        var gone = await Problems.ReadAsync(await service.Client.GetAsync(location + "/model"), HttpStatusCode.Gone);
        Assert.Equal("results_expired", gone.GetProperty("code").GetString());
        // The sweep saves the expiry first, then removes the blobs: allow it the moment in between.
        var blobs = service.ApiServices.GetRequiredService<BlobStore>();
        for (int i = 0; i < 50 && blobs.Exists(sha); i++) await Task.Delay(100);
        Assert.False(blobs.Exists(sha), "the expired model's blob is still stored");
        using var report = await service.Client.GetAsync(location + "/report");
        Assert.Equal(HttpStatusCode.OK, report.StatusCode);
    }
}
