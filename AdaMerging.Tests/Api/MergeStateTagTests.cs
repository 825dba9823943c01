using System.Text.Json;
using AdaMerging.Api.Endpoints;
using AdaMerging.Domain.Jobs;

namespace AdaMerging.Tests.Api;

/// <summary>A running merge's ETag follows its state, not the clock (the elapsed and remaining seconds it reports are read off the clock).</summary>
public sealed class MergeStateTagTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 4, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Polls_of_a_running_merge_at_other_times_carry_the_same_ETag_until_its_step_changes()
    {
        var job = new MergeJob(Guid.NewGuid(), "adamerging", """{"method":"adamerging"}""", T0);
        job.Start(T0.AddSeconds(1));
        job.ReportProgress(MergePhase.Optimise, 3, 100, 2.5);
        var early = MergeResponse.From(job, T0.AddSeconds(10), TimeSpan.FromDays(7));
        var later = MergeResponse.From(job, T0.AddSeconds(20), TimeSpan.FromDays(7));
        Assert.NotEqual(early.Progress.ElapsedSeconds, later.Progress.ElapsedSeconds);   // positive control: the answers differ
        Assert.Equal(early.StateTag(JsonSerializerOptions.Web), later.StateTag(JsonSerializerOptions.Web));

        job.ReportProgress(MergePhase.Optimise, 4, 100, 2.4);
        Assert.NotEqual(early.StateTag(JsonSerializerOptions.Web), MergeResponse.From(job, T0.AddSeconds(20), TimeSpan.FromDays(7)).StateTag(JsonSerializerOptions.Web));
    }
}
