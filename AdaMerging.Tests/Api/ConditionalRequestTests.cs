using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using AdaMerging.Tests.Support;

namespace AdaMerging.Tests.Api;

/// <summary>ETags, If-None-Match and Range on downloads and on a merge's status (issue 15).</summary>
public sealed class ConditionalRequestTests(ServiceFixture service) : TempDirectoryTests, IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task Downloads_carry_the_sha256_as_ETag_answer_304_to_If_None_Match_and_serve_ranges()
    {
        var inputs = await TinyService.UploadAsync(service, Dir, tasks: 2, seed: 61);
        using var submitted = await service.Client.PostAsJsonAsync("/merges", new { method = "task_arithmetic", @base = inputs.Base, tasks = inputs.TaskJson() });
        var location = submitted.Headers.Location!.ToString();
        Assert.Equal("succeeded", (await service.WaitForMergeAsync(location)).GetProperty("status").GetString());

        using var full = await service.Client.GetAsync(location + "/model");
        var bytes = await full.Content.ReadAsByteArrayAsync();
        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        Assert.Equal($"\"{sha}\"", full.Headers.ETag?.Tag);
        Assert.Contains("bytes", full.Headers.AcceptRanges);

        using var again = new HttpRequestMessage(HttpMethod.Get, location + "/model");
        again.Headers.IfNoneMatch.Add(new EntityTagHeaderValue($"\"{sha}\""));
        using var notModified = await service.Client.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());

        using var part = new HttpRequestMessage(HttpMethod.Get, location + "/model");
        part.Headers.Range = new RangeHeaderValue(100, 1099);
        using var partial = await service.Client.SendAsync(part);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(bytes[100..1100], await partial.Content.ReadAsByteArrayAsync());
        Assert.Equal(bytes.Length, partial.Content.Headers.ContentRange?.Length);

        using var stale = new HttpRequestMessage(HttpMethod.Get, location + "/model");
        stale.Headers.Range = new RangeHeaderValue(100, 1099);
        stale.Headers.IfRange = new RangeConditionHeaderValue(new EntityTagHeaderValue("\"another\""));
        using var whole = await service.Client.SendAsync(stale);
        Assert.Equal(HttpStatusCode.OK, whole.StatusCode); // If-Range names another version: the whole file, not a part of it
        Assert.Equal(bytes.Length, (await whole.Content.ReadAsByteArrayAsync()).Length);
    }

    [Fact]
    public async Task A_merge_s_status_has_an_ETag_and_If_None_Match_answers_304_while_nothing_changed()
    {
        var inputs = await TinyService.UploadAsync(service, Dir, tasks: 2, seed: 62);
        using var submitted = await service.Client.PostAsJsonAsync("/merges", new { method = "task_arithmetic", @base = inputs.Base, tasks = inputs.TaskJson() });
        var location = submitted.Headers.Location!.ToString();
        await service.WaitForMergeAsync(location);

        using var first = await service.Client.GetAsync(location);
        var etag = first.Headers.ETag;
        Assert.NotNull(etag);
        using var poll = new HttpRequestMessage(HttpMethod.Get, location);
        poll.Headers.IfNoneMatch.Add(etag);
        using var unchanged = await service.Client.SendAsync(poll);
        Assert.Equal(HttpStatusCode.NotModified, unchanged.StatusCode);
        Assert.Equal(etag, unchanged.Headers.ETag);

        using var other = new HttpRequestMessage(HttpMethod.Get, location);
        other.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"0123\""));
        using var changed = await service.Client.SendAsync(other);
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
    }

    [Fact]
    public async Task The_archive_has_a_weak_ETag_over_its_files_and_If_None_Match_answers_304_and_the_merge_links_its_events_and_cancel()
    {
        var inputs = await TinyService.UploadAsync(service, Dir, tasks: 2, seed: 63);
        using var submitted = await service.Client.PostAsJsonAsync("/merges", new { method = "task_arithmetic", @base = inputs.Base, tasks = inputs.TaskJson() });
        var location = submitted.Headers.Location!.ToString();
        var merge = await service.WaitForMergeAsync(location);
        var links = merge.GetProperty("links");
        Assert.Equal((location + "/events", location + "/events/stream", location + "/cancel"),
            (links.GetProperty("events").GetString(), links.GetProperty("eventStream").GetString(), links.GetProperty("cancel").GetString()));

        using var first = await service.Client.GetAsync(location + "/archive");
        var etag = first.Headers.ETag;
        Assert.True(etag is { IsWeak: true }, $"the archive's ETag is {etag}"); // made as it streams: the same files, not the same bytes promised
        Assert.NotEmpty(await first.Content.ReadAsByteArrayAsync());
        using var again = new HttpRequestMessage(HttpMethod.Get, location + "/archive");
        again.Headers.IfNoneMatch.Add(etag!);
        using var notModified = await service.Client.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());
        using var other = new HttpRequestMessage(HttpMethod.Get, location + "/archive");
        other.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"0123\"", isWeak: true));
        using var changed = await service.Client.SendAsync(other);
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
    }
}
