namespace AdaMerging.Domain.Jobs;

/// <summary>
/// A merge request and its life: Queued → Running → Succeeded | Failed, and Cancelled from either
/// unfinished state. A Running job may be started again (its worker died); every other move throws.
/// </summary>
public sealed class MergeJob : Store.IListed, Store.IAnnotated
{
    private MergeJob() { }

    public MergeJob(Guid id, string method, string requestJson, DateTimeOffset now)
    {
        Id = id;
        Method = method;
        RequestJson = requestJson;
        CreatedAt = now;
        Status = MergeStatus.Queued;
    }

    /// <summary>The W3C traceparent of the request that submitted it: the worker's spans continue that trace.</summary>
    public string? TraceParent { get; private set; }

    public void Traced(string? traceParent) => TraceParent = traceParent;

    /// <summary>The queue's own id of the job, so that cancelling can withdraw it.</summary>
    public string? QueueJobId { get; private set; }

    /// <summary>The user's own labels (bounded by <see cref="ResourceMetadata"/>).</summary>
    public Dictionary<string, string> Metadata { get; private set; } = [];

    public void Annotate(IReadOnlyDictionary<string, string> metadata) => Metadata = new Dictionary<string, string>(metadata, StringComparer.Ordinal);

    public void Queued(string queueJobId) => QueueJobId = queueJobId;

    public Guid Id { get; private set; }

    /// <summary>Who submitted it; only they (and admins) can see or cancel it.</summary>
    public string Owner { get; private set; } = "";

    public void OwnedBy(string owner) => Owner = owner;

    public string Method { get; private set; } = "";

    /// <summary>The validated request, as the worker reads it back.</summary>
    public string RequestJson { get; private set; } = "";

    public MergeStatus Status { get; private set; }

    public DateTimeOffset CreatedAt { get; private set; }

    public DateTimeOffset? StartedAt { get; private set; }

    public DateTimeOffset? FinishedAt { get; private set; }

    public int Attempts { get; private set; }

    public string? Error { get; private set; }

    /// <summary>The merged model folder and report in the blob store, once it succeeded.</summary>
    public List<Store.CheckpointFile> ResultFiles { get; private set; } = [];

    public string? ReportJson { get; private set; }

    /// <summary>The phase running now (load, merge, optimise, evaluate, write) and, while optimising, the step.</summary>
    public string? Phase { get; private set; }

    public int Step { get; private set; }

    public int TotalSteps { get; private set; }

    public double? Objective { get; private set; }

    public void ReportProgress(MergePhase phase, int step, int totalSteps, double? objective)
    {
        Require(Status == MergeStatus.Running, "report progress");
        Phase = phase.Wire();
        Step = step;
        TotalSteps = totalSteps;
        Objective = objective ?? Objective;
    }

    public bool IsFinished => Status is MergeStatus.Succeeded or MergeStatus.Failed or MergeStatus.Cancelled;

    /// <summary>The host (its HostId) of the latest attempt; every attempt's host and device are in its started/retried event.</summary>
    public string? Host { get; private set; }

    /// <summary>The device of the latest attempt: cpu, or the cuda:N its worker slot owns.</summary>
    public string? Device { get; private set; }

    public void Start(DateTimeOffset now, string? host = null, string? device = null)
    {
        Require(Status is MergeStatus.Queued or MergeStatus.Running, "start");
        Status = MergeStatus.Running;
        StartedAt = now;
        Attempts++;
        Host = host;
        Device = device;
    }

    /// <summary>
    /// Back to the queue before it ran: its device is too small for it and a larger one serves another queue
    /// (docs/deployment.md, "Devices"). Nothing ran, so this start does not count as an attempt.
    /// </summary>
    public void Requeue()
    {
        Require(Status == MergeStatus.Running, "re-queue");
        Status = MergeStatus.Queued;
        StartedAt = null;
        Attempts--;
        Host = null;
        Device = null;
    }

    public void Succeed(IReadOnlyList<Store.CheckpointFile> files, string reportJson, DateTimeOffset now)
    {
        Require(Status == MergeStatus.Running, "succeed");
        Status = MergeStatus.Succeeded;
        ResultFiles = [.. files];
        ReportJson = reportJson;
        Phase = null;
        FinishedAt = now;
    }

    /// <summary>A succeeded merge whose results were removed after the retention period (its report stays).</summary>
    public bool ResultsExpired => Status == MergeStatus.Succeeded && ResultFiles.Count == 0;

    public void ExpireResults()
    {
        Require(Status == MergeStatus.Succeeded, "expire the results of");
        ResultFiles = [];
    }

    public void Fail(string reason, DateTimeOffset now)
    {
        Require(Status is MergeStatus.Queued or MergeStatus.Running, "fail");
        Status = MergeStatus.Failed;
        Error = reason;
        FinishedAt = now;
    }

    public void Cancel(DateTimeOffset now)
    {
        Require(!IsFinished, "cancel");
        Status = MergeStatus.Cancelled;
        FinishedAt = now;
    }

    private void Require(bool allowed, string action)
    {
        if (!allowed)
            throw new InvalidMergeTransitionException($"merge {Id} cannot {action}: it is {Status.ToString().ToLowerInvariant()}");
    }
}
