using System.Net.Http.Json;
using System.Text.Json;
using AdaMerging.Tests.Support;

namespace AdaMerging.Tests.Api;

/// <summary>A merge's events, paged and as a server-sent-event stream (issue 15).</summary>
public sealed class MergeEventTests(ServiceFixture service) : TempDirectoryTests, IClassFixture<ServiceFixture>
{
    private static List<JsonElement> Data(JsonElement page) => [.. page.GetProperty("data").EnumerateArray()];

    [Fact]
    public async Task A_merge_s_events_come_in_order_page_by_cursor_and_stream_live_to_the_end()
    {
        var inputs = await TinyService.UploadAsync(service, Dir, tasks: 2, seed: 91);
        using var submitted = await service.Client.PostAsJsonAsync("/merges", new
        {
            method = "adamerging", @base = inputs.Base, tasks = inputs.TaskJson(), options = new { steps = 25, batchSize = 4 },
        });
        var location = submitted.Headers.Location!.ToString();

        // The stream, opened right away, follows the merge live and ends with it.
        using var stream = await service.Client.GetStreamAsync(location + "/events/stream");
        using var reader = new StreamReader(stream);
        var streamed = new List<(long Id, string Type)>();
        long id = 0;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("id: ", StringComparison.Ordinal)) id = long.Parse(line[4..], System.Globalization.CultureInfo.InvariantCulture);
            if (line.StartsWith("event: ", StringComparison.Ordinal)) streamed.Add((id, line[7..]));
        }

        var all = Data(await service.Client.GetFromJsonAsync<JsonElement>(location + "/events"));
        var types = all.Select(e => e.GetProperty("type").GetString()!).ToList();
        Assert.Equal(["queued", "started"], types.Take(2));
        Assert.Equal("succeeded", types[^1]);
        Assert.Contains("optimise", all.Where(e => e.GetProperty("type").GetString() == "phase").Select(e => e.GetProperty("phase").GetString()));
        var objectives = all.Where(e => e.GetProperty("type").GetString() == "objective").ToList();
        Assert.NotEmpty(objectives);
        Assert.All(objectives, o => Assert.True(o.GetProperty("objective").GetDouble() > 0));
        var ids = all.Select(e => e.GetProperty("id").GetInt64()).ToList();
        Assert.Equal(ids.Order(), ids);
        Assert.Equal(all.Select(e => (e.GetProperty("id").GetInt64(), e.GetProperty("type").GetString()!)), streamed);

        var first = await service.Client.GetFromJsonAsync<JsonElement>(location + "/events?limit=2");
        Assert.True(first.GetProperty("hasMore").GetBoolean());
        var rest = await service.Client.GetFromJsonAsync<JsonElement>($"{location}/events?after={first.GetProperty("lastId").GetInt64()}");
        Assert.Equal(ids, Data(first).Concat(Data(rest)).Select(e => e.GetProperty("id").GetInt64()));
    }

    [Fact]
    public async Task A_cancelled_merge_ends_with_a_cancelled_event_and_another_owner_sees_no_events()
    {
        var inputs = await TinyService.UploadAsync(service, Dir, tasks: 2, seed: 92);
        using var submitted = await service.Client.PostAsJsonAsync("/merges", new
        {
            method = "adamerging", @base = inputs.Base, tasks = inputs.TaskJson(), options = new { steps = 100_000, batchSize = 4 },
        });
        var location = submitted.Headers.Location!.ToString();
        (await service.Client.PostAsync(location + "/cancel", null)).Dispose();
        await service.WaitForMergeAsync(location);
        var types = Data(await service.Client.GetFromJsonAsync<JsonElement>(location + "/events")).Select(e => e.GetProperty("type").GetString()).ToList();
        Assert.Equal("queued", types[0]);
        Assert.Contains("cancelled", types);
        var stranger = await service.ClientForAsync("stranger");
        await Problems.ReadAsync(await stranger.GetAsync(location + "/events"), System.Net.HttpStatusCode.NotFound);
    }
}
