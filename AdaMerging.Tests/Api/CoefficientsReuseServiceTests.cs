using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using AdaMerging.Tests.Support;
using Microsoft.EntityFrameworkCore;

namespace AdaMerging.Tests.Api;

/// <summary>options.coefficientsFrom through the service: an earlier merge's learned λ, reused without optimising.</summary>
public sealed class CoefficientsReuseServiceTests(ServiceFixture service) : TempDirectoryTests, IClassFixture<ServiceFixture>
{
    private async Task<JsonElement> MergeAsync(TinyService.Inputs inputs, object options)
    {
        using var submitted = await service.Client.PostAsJsonAsync("/merges", new { method = "adamerging", @base = inputs.Base, tasks = inputs.TaskJson(), options });
        Assert.True(submitted.StatusCode == HttpStatusCode.Accepted, await submitted.Content.ReadAsStringAsync());
        var merge = await service.WaitForMergeAsync(submitted.Headers.Location!.ToString(), TimeSpan.FromMinutes(2));
        Assert.True(merge.GetProperty("status").GetString() == "succeeded", merge.ToString());
        return merge;
    }

    private async Task<string> ModelSha256Async(JsonElement merge) =>
        Convert.ToHexStringLower(SHA256.HashData(await service.Client.GetByteArrayAsync(merge.GetProperty("links").GetProperty("model").GetString())));

    [Fact]
    public async Task A_merge_from_an_earlier_merge_s_coefficients_skips_the_optimisation_and_gives_the_same_model()
    {
        var inputs = await TinyService.UploadAsync(service, Dir, tasks: 2, seed: 91);
        var learned = await MergeAsync(inputs, new { steps = 5, batchSize = 4, learningRate = 0.05, seed = 4 });
        var reused = await MergeAsync(inputs, new { coefficientsFrom = learned.GetProperty("id").GetString() });

        Assert.Equal(await ModelSha256Async(learned), await ModelSha256Async(reused));
        var report = await service.Client.GetFromJsonAsync<JsonElement>(reused.GetProperty("links").GetProperty("report").GetString());
        Assert.Equal(0, report.GetProperty("objectivePerStep").GetArrayLength());
        Assert.Equal(JsonValueKind.Array, report.GetProperty("options").GetProperty("coefficients").GetProperty("layers").ValueKind);
    }

    [Fact]
    public async Task Coefficients_from_a_merge_that_learned_none_or_that_do_not_fit_are_refused_before_anything_is_queued()
    {
        var inputs = await TinyService.UploadAsync(service, Dir, tasks: 2, seed: 92);
        using var plain = await service.Client.PostAsJsonAsync("/merges", new { method = "task_arithmetic", @base = inputs.Base, tasks = inputs.TaskJson() });
        var arithmetic = await service.WaitForMergeAsync(plain.Headers.Location!.ToString(), TimeSpan.FromMinutes(2));
        await using var db = service.NewDbContext();
        int before = await db.Merges.CountAsync();

        foreach (var (options, expected) in new (object Options, string Problem)[]
        {
            (new { coefficientsFrom = arithmetic.GetProperty("id").GetString() }, "learned no coefficients"),
            (new { granularity = "task", coefficients = new[] { 0.3 } }, "1 value(s) per row for 2 task(s)"),
            (new { coefficients = new Dictionary<string, double[]> { ["not.a.layer"] = [0.1, 0.2] } }, "not a layer: 'not.a.layer'"),
        })
        {
            using var response = await service.Client.PostAsJsonAsync("/merges", new { method = "adamerging", @base = inputs.Base, tasks = inputs.TaskJson(), options });
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.UnprocessableEntity, text);
            Assert.Contains(expected, text, StringComparison.Ordinal);
        }
        Assert.Equal(before, await db.Merges.CountAsync());
    }
}
