using AdaMerging.Domain.Methods;
namespace AdaMerging.Domain.Merging;

/// <summary>
/// Where a job keeps AdaMerging's state between attempts: a worker that dies (or is stopped) mid-optimisation leaves
/// its last state, and the next attempt resumes from it and ends bit-identical to an uninterrupted run.
/// </summary>
public interface IRunSnapshots
{
    /// <summary>The state a previous attempt saved, or null.</summary>
    AdaMergingState? Load();

    /// <summary>Replaces the saved state atomically: a crash mid-save leaves the previous one.</summary>
    void Save(AdaMergingState state);

    /// <summary>How often to save while optimising (the state is also saved when the run is interrupted).</summary>
    TimeSpan Interval { get; }
}
