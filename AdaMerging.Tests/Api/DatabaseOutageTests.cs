using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AdaMerging.Infrastructure.Postgres;
using AdaMerging.Tests.Support;

namespace AdaMerging.Tests.Api;

/// <summary>The service on a PostgreSQL cluster of its own, which the tests stop and start as an operator's restart would.</summary>
public sealed class OwnClusterFixture : ServiceFixture
{
    public PostgresCluster Cluster { get; private set; } = null!;

    protected override async Task<string> CreateDatabaseAsync()
    {
        Cluster = await PostgresCluster.StartEphemeralAsync();
        await Cluster.CreateDatabaseAsync("outage");
        return Cluster.ConnectionString("outage");
    }

    // AdaMerging's state is saved every step, so a merge the outage interrupts resumes where it was.
    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() => [new("AdaMerging:SnapshotSeconds", "0")];

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Cluster.DisposeAsync();
    }
}

public sealed class DatabaseOutageTests(OwnClusterFixture service) : IClassFixture<OwnClusterFixture>, IDisposable
{
    private readonly TempDirectory _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task While_PostgreSQL_is_down_the_API_answers_503_fast_and_everything_recovers_on_its_own()
    {
        var inputs = await TinyService.UploadAsync(service, _files, tasks: 2, seed: 51);
        var request = new { method = "adamerging", @base = inputs.Base, tasks = inputs.TaskJson(), options = new { steps = 1000, batchSize = 4 } };
        using var submitted = await service.Client.PostAsJsonAsync("/merges", request);
        var location = submitted.Headers.Location!.ToString();
        var quick = new[] { new { name = "a", checkpoint = inputs.Tasks[0].Checkpoint } };
        await service.WaitForFirstStepAsync(location);

        int workerLinesBefore = service.WorkerLog.Lines.Count;
        await service.Cluster.StopServerAsync();
        var answers = new List<(HttpStatusCode Status, TimeSpan Took)>();
        for (int i = 0; i < 20; i++)
        {
            var clock = Stopwatch.StartNew();
            using var response = await service.Client.GetAsync(i % 2 == 0 ? location : "/merges");
            answers.Add((response.StatusCode, clock.Elapsed));
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                var problem = await Problems.ReadAsync(response, HttpStatusCode.ServiceUnavailable);
                Assert.Contains("database", Problems.Text(problem), StringComparison.Ordinal);
                Assert.Equal("5", response.Headers.GetValues("Retry-After").Single());
            }
        }
        using (var health = await service.Anonymous.GetAsync("/health/ready"))
            Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        using (var post = await service.Client.PostAsJsonAsync("/merges", new { method = "task_arithmetic", @base = inputs.Base, tasks = quick }))
            Assert.Equal(HttpStatusCode.ServiceUnavailable, post.StatusCode);
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.ServiceUnavailable, a.Status));
        Assert.True(answers.Max(a => a.Took) < TimeSpan.FromSeconds(2), $"slowest answer while down: {answers.Max(a => a.Took)}");

        // The outage lasts until the worker has met it (its running merge could not reach the database), not a fixed time.
        await Poll.UntilAsync(() => service.WorkerLog.Lines.Skip(workerLinesBefore).Any(l => l.Contains("Npgsql", StringComparison.Ordinal)), TimeSpan.FromSeconds(60),
            () => "the worker never met the outage:\n" + string.Join("\n", service.WorkerLog.Lines.Skip(workerLinesBefore)));
        await service.Cluster.StartServerAsync();

        // No manual step: the API answers again, new work is accepted, and the interrupted merge finishes.
        await Poll.UntilAsync(async () => (await service.Client.GetAsync(location)).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(15),
            () => "the API did not recover within 15 s of PostgreSQL's restart", everyMilliseconds: 200);
        using var after = await service.Client.PostAsJsonAsync("/merges", new { method = "task_arithmetic", @base = inputs.Base, tasks = quick });
        Assert.Equal(HttpStatusCode.Accepted, after.StatusCode);
        Assert.Equal("succeeded", (await service.WaitForMergeAsync(after.Headers.Location!.ToString(), TimeSpan.FromMinutes(2))).GetProperty("status").GetString());
        var merge = await service.WaitForMergeAsync(location, TimeSpan.FromMinutes(4));
        Assert.True(merge.GetProperty("status").GetString() == "succeeded", merge.ToString());
    }
}
