namespace AdaMerging.Domain.Jobs;

/// <summary>An experiment's state, from its merges': all queued, some still to finish, or all finished with every, some or none succeeded.</summary>
public enum ExperimentStatus
{
    Queued,
    Running,
    Succeeded,
    PartlySucceeded,
    Failed,
}

/// <summary>One method configuration of an experiment and the ordinary merge that runs it.</summary>
public sealed record ExperimentRun(string Label, string Method, Guid MergeId);

/// <summary>
/// One set of inputs (base, tasks, heads, data) merged by several method configurations, each an ordinary merge,
/// compared in one table (docs/api.md, "Experiments"). Its state is its merges': it holds only what ties them together.
/// </summary>
public sealed class Experiment : Store.IListed
{
    private Experiment() { }

    public Experiment(Guid id, string name, string owner, DateTimeOffset createdAt, IReadOnlyList<ExperimentRun> runs)
    {
        Id = id;
        Name = name;
        Owner = owner;
        CreatedAt = createdAt;
        Runs = [.. runs];
    }

    public Guid Id { get; private set; }

    public string Name { get; private set; } = "";

    public string Owner { get; private set; } = "";

    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>The configurations in the request's order, each with its merge.</summary>
    public List<ExperimentRun> Runs { get; private set; } = [];

    /// <summary>The experiment's state from its merges' (a deleted merge counts as not succeeded).</summary>
    public static ExperimentStatus StatusOf(IReadOnlyCollection<MergeStatus?> merges) =>
        merges.All(s => s == MergeStatus.Queued) ? ExperimentStatus.Queued
        : merges.Any(s => s is MergeStatus.Queued or MergeStatus.Running) ? ExperimentStatus.Running
        : merges.All(s => s == MergeStatus.Succeeded) ? ExperimentStatus.Succeeded
        : merges.Any(s => s == MergeStatus.Succeeded) ? ExperimentStatus.PartlySucceeded
        : ExperimentStatus.Failed;
}
