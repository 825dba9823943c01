namespace AdaMerging.Domain.Jobs;

public enum MergeStatus
{
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}
