using AdaMerging.Domain.Jobs;
using AdaMerging.Infrastructure.Persistence;
using AdaMerging.Tests.Support;
using Microsoft.EntityFrameworkCore;

namespace AdaMerging.Tests.Infrastructure.Persistence;

/// <summary>
/// A merge's status is a concurrency token: a worker that read a merge before its owner cancelled it cannot save a
/// start (or an end) over the cancellation; changes that leave the status alone do not conflict.
/// </summary>
public sealed class MergeStatusRaceTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_start_read_before_a_cancellation_cannot_be_saved_over_it_while_a_label_saved_meanwhile_can()
    {
        var connection = await TestPostgres.CreateDatabaseAsync();
        AdaMergingDbContext Context() => new(new DbContextOptionsBuilder<AdaMergingDbContext>().UseNpgsql(connection).Options);
        await using (var setup = Context()) await setup.Database.MigrateAsync();
        Guid cancelled = await InsertAsync(Context()), labelled = await InsertAsync(Context());

        // The worker reads both merges; meanwhile the owner cancels one and labels the other.
        await using var worker = Context();
        await using var otherWorker = Context();
        var toCancel = await worker.Merges.SingleAsync(m => m.Id == cancelled);
        var toLabel = await otherWorker.Merges.SingleAsync(m => m.Id == labelled);
        await using (var api = Context())
        {
            (await api.Merges.SingleAsync(m => m.Id == cancelled)).Cancel(Now);
            (await api.Merges.SingleAsync(m => m.Id == labelled)).Annotate(new Dictionary<string, string> { ["team"] = "vision" });
            await api.SaveChangesAsync();
        }

        toCancel.Start(Now, "host", "cpu");
        await Assert.ThrowsAsync<DbUpdateConcurrencyException>(() => worker.SaveChangesAsync());
        toLabel.Start(Now, "host", "cpu");
        await otherWorker.SaveChangesAsync(); // the control: read as stale, but the label left the status alone

        await using var check = Context();
        Assert.Equal(MergeStatus.Cancelled, (await check.Merges.SingleAsync(m => m.Id == cancelled)).Status);
        var started = await check.Merges.SingleAsync(m => m.Id == labelled);
        Assert.Equal(MergeStatus.Running, started.Status);
        Assert.Equal("vision", started.Metadata["team"]);
    }

    private static async Task<Guid> InsertAsync(AdaMergingDbContext db)
    {
        await using (db)
        {
            var job = new MergeJob(Guid.NewGuid(), "task_arithmetic", "{}", Now);
            db.Merges.Add(job);
            await db.SaveChangesAsync();
            return job.Id;
        }
    }
}
