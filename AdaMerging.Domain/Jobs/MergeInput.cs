namespace AdaMerging.Domain.Jobs;

/// <summary>What a resource is to a merge that uses it.</summary>
public enum MergeInputRole
{
    /// <summary>The pre-trained checkpoint θ0.</summary>
    Base,

    /// <summary>A task's fine-tuned checkpoint.</summary>
    Checkpoint,

    /// <summary>A task's frozen head.</summary>
    Head,

    /// <summary>A task's unlabeled adaptation data.</summary>
    AdaptationData,

    /// <summary>A task's labeled evaluation data.</summary>
    EvaluationData,

    /// <summary>An earlier merge whose learned coefficients this one merges with (AdaMerging's coefficientsFrom).</summary>
    Coefficients,
}

/// <summary>
/// One resource a merge uses, in one role (for one task, where the role is a task's), written with the merge in one
/// transaction: what a delete asks before removing a resource, by query (docs/api.md, "Deleting").
/// </summary>
public sealed class MergeInput
{
    private MergeInput() { }

    public MergeInput(Guid mergeId, Guid resourceId, MergeInputRole role, string? task)
    {
        MergeId = mergeId;
        ResourceId = resourceId;
        Role = role;
        Task = task;
    }

    public long Id { get; private set; }

    public Guid MergeId { get; private set; }

    public Guid ResourceId { get; private set; }

    public MergeInputRole Role { get; private set; }

    /// <summary>The task's name for a task's input; null for the base and reused coefficients.</summary>
    public string? Task { get; private set; }
}
