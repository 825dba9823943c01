using AdaMerging.Domain.Jobs;

namespace AdaMerging.Tests.Domain.Jobs;

public class MergeJobTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_job_moves_queued_running_succeeded_and_records_when()
    {
        var job = new MergeJob(Guid.NewGuid(), "task_arithmetic", "{}", T0);
        job.Start(T0.AddSeconds(1));
        job.Succeed([new AdaMerging.Domain.Store.CheckpointFile("model.safetensors", new string('a', 64), 10)], "{}", T0.AddSeconds(5));
        Assert.Equal(MergeStatus.Succeeded, job.Status);
        Assert.Equal(T0.AddSeconds(1), job.StartedAt);
        Assert.Equal(T0.AddSeconds(5), job.FinishedAt);
        Assert.Equal(1, job.Attempts);
    }

    [Fact]
    public void A_running_job_whose_worker_died_can_start_again()
    {
        var job = new MergeJob(Guid.NewGuid(), "task_arithmetic", "{}", T0);
        job.Start(T0);
        job.Start(T0.AddMinutes(3));
        Assert.Equal(2, job.Attempts);
    }

    [Fact]
    public void Finished_jobs_refuse_every_further_move()
    {
        var job = new MergeJob(Guid.NewGuid(), "task_arithmetic", "{}", T0);
        job.Start(T0);
        job.Fail("boom", T0);
        Assert.Throws<InvalidMergeTransitionException>(() => job.Start(T0));
        Assert.Throws<InvalidMergeTransitionException>(() => job.Succeed([], "{}", T0));
        Assert.Throws<InvalidMergeTransitionException>(() => job.Cancel(T0));
        Assert.Equal("boom", job.Error);
    }

    [Fact]
    public void A_queued_job_cannot_succeed_without_running()
    {
        var job = new MergeJob(Guid.NewGuid(), "task_arithmetic", "{}", T0);
        Assert.Throws<InvalidMergeTransitionException>(() => job.Succeed([], "{}", T0));
    }
}
