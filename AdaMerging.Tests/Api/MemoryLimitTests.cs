using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AdaMerging.Tests.Support;

namespace AdaMerging.Tests.Api;

/// <summary>The service with a 100 MB limit on a merge's estimated peak (MergeMemoryLimitBytes).</summary>
public sealed class MemoryLimitServiceFixture : ServiceFixture
{
    public const long Limit = 100_000_000;

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
        [new("AdaMerging:MergeMemoryLimitBytes", Limit.ToString(System.Globalization.CultureInfo.InvariantCulture))];
}

/// <summary>
/// A merge whose estimated peak exceeds the configured limit is refused before it is queued, with both numbers; one
/// within it runs and reports its estimate beside the measured peak of each phase (docs/algorithm.md, "Memory").
/// </summary>
public sealed class MemoryLimitTests(MemoryLimitServiceFixture service) : IClassFixture<MemoryLimitServiceFixture>, IDisposable
{
    private readonly TempDirectory _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task A_merge_estimated_over_the_limit_gets_422_with_both_numbers_and_one_within_reports_estimate_and_phase_peaks()
    {
        var inputs = await TinyService.UploadAsync(service, _files, tasks: 2, seed: 41);
        object Request(int batchSize) => new { method = "adamerging", @base = inputs.Base, tasks = inputs.TaskJson(), options = new { steps = 2, batchSize } };

        // 4096 images of the tiny CLIP per task: about 0.27 GB of activations by the estimate, over 0.10 GB.
        using var refused = await service.Client.PostAsJsonAsync("/merges", Request(4096));
        var problem = await Problems.ReadAsync(refused, HttpStatusCode.UnprocessableEntity);
        var text = problem.GetRawText();
        Assert.Matches(@"needs an estimated 0\.\d\d GB of memory at its peak, over the limit of 0\.10 GB \(MergeMemoryLimitBytes\)", text);
        using (var list = await service.Client.GetAsync("/merges"))
            Assert.Equal(0, (await list.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("total").GetInt32());   // nothing queued

        using var accepted = await service.Client.PostAsJsonAsync("/merges", Request(4));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var id = (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var merge = await service.WaitForMergeAsync($"/merges/{id}");
        Assert.Equal("succeeded", merge.GetProperty("status").GetString());
        var memory = (await service.Client.GetFromJsonAsync<JsonElement>($"/merges/{id}/report")).GetProperty("memory");
        var estimate = memory.GetProperty("estimatedPeakBytes").GetInt64();
        Assert.InRange(estimate, 1, MemoryLimitServiceFixture.Limit);
        var phases = memory.GetProperty("phasePeakBytes").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Equal(["evaluate", "load", "merge", "optimise", "write"], phases.Order(StringComparer.Ordinal));
        Assert.Equal(memory.GetProperty("phasePeakBytes").EnumerateObject().Max(p => p.Value.GetInt64()), memory.GetProperty("measuredPeakBytes").GetInt64());
        Assert.Equal("process resident memory (RSS)", memory.GetProperty("measured").GetString());
    }
}
