using System.ComponentModel.DataAnnotations;

namespace AdaMerging.Infrastructure.Options;

/// <summary>Settings shared by the API and the worker, bound from the "AdaMerging" section.</summary>
public sealed class AdaMergingOptions
{
    public const string Section = "AdaMerging";

    /// <summary>Root of blobs, temporary uploads and (by default) the embedded PostgreSQL cluster.</summary>
    [Required]
    public string DataRoot { get; set; } = "data";

    /// <summary>
    /// This host's name (default: the machine name): in temp file names, Hangfire server names and the merge's record of
    /// where it ran. Hosts sharing one DataRoot must have distinct ids (docs/deployment.md).
    /// </summary>
    [Required, RegularExpression("^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$", ErrorMessage = "HostId must be 1-63 letters, digits, '_', '.' or '-'")]
    public string HostId { get; set; } = Environment.MachineName;

    /// <summary>Hours after which a temp file another host wrote counts as abandoned (its processes cannot be seen from here).</summary>
    [Range(1, 24 * 365)]
    public int ForeignTempHours { get; set; } = 24;

    /// <summary>Hangfire queue the merges go to; workers on GPU machines listen on it.</summary>
    [Required, RegularExpression("^[a-z0-9_-]{1,20}$", ErrorMessage = "Queue must be 1-20 lower-case letters, digits, '_' or '-'")]
    public string Queue { get; set; } = "gpu";

    /// <summary>auto, cpu or cuda.</summary>
    [RegularExpression("^(auto|cpu|cuda)$", ErrorMessage = "Device must be auto, cpu or cuda")]
    public string Device { get; set; } = "auto";

    /// <summary>Merges one owner may have queued or running at once; more are refused with 429.</summary>
    [Range(1, 100_000)]
    public int MaxActiveMergesPerOwner { get; set; } = 8;

    /// <summary>Bytes of checkpoints, heads and datasets one owner may store; past it uploads are refused with 413.</summary>
    [Range(1, long.MaxValue)]
    public long MaxStoredBytesPerOwner { get; set; } = 1L << 40;

    /// <summary>Requests one API key (or, without a key, one client address) may make per second; past it, 429.</summary>
    [Range(1, 1_000_000)]
    public int RequestsPerSecondPerKey { get; set; } = 1000;

    /// <summary>A blob published less than this long ago is never removed (its row may not be saved yet); later sweeps take it.</summary>
    [Range(0, 86_400)]
    public int BlobGraceSeconds { get; set; } = 300;

    /// <summary>How often the API sweeps blobs nothing references (deletes remove theirs at once when past the grace period).</summary>
    [Range(1, 86_400)]
    public int BlobSweepSeconds { get; set; } = 600;

    /// <summary>How long a succeeded merge's results are kept (default 30 days); then the sweep removes them (the report stays).</summary>
    [Range(1, 10L * 365 * 86_400)]
    public long ResultRetentionSeconds { get; set; } = 30L * 86_400;

    /// <summary>How long an Idempotency-Key is remembered (default 24 h); after that the same key starts a new request.</summary>
    [Range(1, 30L * 86_400)]
    public long IdempotencyKeySeconds { get; set; } = 86_400;

    /// <summary>How long a resumable upload may stay unfinished after its last PATCH (default 24 h); then its partial bytes are removed.</summary>
    [Range(1, 30L * 86_400)]
    public long ResumableUploadSeconds { get; set; } = 86_400;

    /// <summary>Seconds between saves of a running AdaMerging's state (0: every step); a restarted job resumes from the last.</summary>
    [Range(0, 86_400)]
    public int SnapshotSeconds { get; set; } = 30;

    /// <summary>
    /// Seconds after which a job whose worker stopped answering (killed, machine lost) is handed to another worker. The
    /// timeout slides while the worker lives, so a long merge is never taken from a live worker.
    /// </summary>
    [Range(2, 86_400)]
    public int QueueInvisibilitySeconds { get; set; } = 120;

    /// <summary>
    /// Slots of the merge queue (Queue) this worker process serves: 0 means one per device slot (Devices × SlotsPerDevice),
    /// -1 none (a host that serves only the CPU queue).
    /// </summary>
    [Range(-1, 64)]
    public int WorkerCount { get; set; }

    /// <summary>The devices this worker's merge slots own, e.g. ["cuda:0", "cuda:1"]; empty: every visible GPU, else the CPU.</summary>
    public List<string> Devices { get; set; } = [];

    /// <summary>
    /// The most memory one merge may need at its peak by its estimate (docs/algorithm.md, "Memory"), in bytes: a merge
    /// estimated above it is refused at submission (422 with both numbers) and by a worker before it starts. 0: no
    /// configured limit (a worker on the CPU still refuses what exceeds the machine's memory).
    /// </summary>
    [Range(0, long.MaxValue)]
    public long MergeMemoryLimitBytes { get; set; }

    /// <summary>Merges that may share one device at once (1: each merge has its device to itself).</summary>
    [Range(1, 16)]
    public int SlotsPerDevice { get; set; } = 1;

    /// <summary>The queue of merges that need no gradient (weight averaging, task arithmetic, TIES, DARE): CPU slots, any host.</summary>
    [Required, RegularExpression("^[a-z0-9_-]{1,20}$", ErrorMessage = "CpuQueue must be 1-20 lower-case letters, digits, '_' or '-'")]
    public string CpuQueue { get; set; } = "cpu";

    /// <summary>Slots of the CPU queue this worker process serves (0: none).</summary>
    [Range(0, 64)]
    public int CpuWorkerCount { get; set; } = 1;

    /// <summary>Port of the worker's Prometheus /metrics (merge and phase durations, steps, failures); 0: not served.</summary>
    [Range(0, 65_535)]
    public int WorkerMetricsPort { get; set; }

    /// <summary>
    /// Port on which the API serves /metrics without a key, and nothing else; 0: /metrics is on the public port and
    /// needs an admin key.
    /// </summary>
    [Range(0, 65_535)]
    public int MetricsPort { get; set; }

    /// <summary>
    /// The reverse proxies and load balancers (addresses or CIDR networks) whose X-Forwarded-For and X-Forwarded-Proto
    /// the API believes; empty: nobody's, and the caller is the connection's address.
    /// </summary>
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>"text" (one line an event, for people) or "json" (one JSON object an event, for a log pipeline).</summary>
    [Required, RegularExpression("^(text|json)$", ErrorMessage = "LogFormat must be text or json")]
    public string LogFormat { get; set; } = "text";

    /// <summary>Address the worker's /metrics listens on ("+": every address).</summary>
    [Required]
    public string WorkerMetricsHost { get; set; } = "+";

    /// <summary>Callback deliveries one worker process runs at once, on their own Hangfire workers (never behind a merge).</summary>
    [Range(1, 64)]
    public int CallbackWorkerCount { get; set; } = 2;

    /// <summary>Addresses, networks (CIDR) or host names callbacks may reach although private, loopback or link-local.</summary>
    public List<string> CallbackAllowList { get; set; } = [];

    /// <summary>The service's address as clients reach it: callbacks carry absolute links under it.</summary>
    [Url]
    public string PublicUrl { get; set; } = "http://127.0.0.1:5080";

    /// <summary>The master key (base64) owners' webhook secrets derive from; unset: created once under DataRoot.</summary>
    public string? WebhookSigningKey { get; set; }

    /// <summary>
    /// Seconds an event stream may stay silent before a comment line keeps it open: load balancers cut idle
    /// connections (commonly after 60 s), and a long optimise or evaluate phase sends nothing for minutes.
    /// </summary>
    [Range(1, 300)]
    public int EventStreamKeepAliveSeconds { get; set; } = 15;

    /// <summary>
    /// Without ConnectionStrings:Postgres, run a private PostgreSQL cluster under DataRoot (the demo's one-machine
    /// default). Off: a host without a connection string stops with a message instead.
    /// </summary>
    public bool EmbeddedDatabase { get; set; }
}
