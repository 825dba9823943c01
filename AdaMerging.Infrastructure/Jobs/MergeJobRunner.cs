using System.Diagnostics;
using System.Text.Json;
using AdaMerging.Domain.Methods;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Compute;
using AdaMerging.Domain.Jobs;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Store;
using AdaMerging.Infrastructure.Runs;
using AdaMerging.Infrastructure.Blobs;
using AdaMerging.Infrastructure.Devices;
using AdaMerging.Infrastructure.Options;
using AdaMerging.Infrastructure.Persistence;
using AdaMerging.Infrastructure.Telemetry;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AdaMerging.Infrastructure.Jobs;

/// <summary>
/// Runs one merge. It receives only the id and re-reads everything, so running it twice is harmless: a finished
/// merge is left alone and an interrupted one resumes from its last saved AdaMerging state (bit-identical). Failures of the merge itself end the job with the
/// reason; database outages and shutdown propagate so that Hangfire retries or re-queues it.
/// </summary>
public sealed partial class MergeJobRunner(
    AdaMergingDbContext db,
    BlobStore blobs,
    TimeProvider time,
    IServiceScopeFactory scopes,
    IBackgroundJobClient queue,
    IOptions<AdaMergingOptions> options,
    WorkerMetrics metrics,
    DeviceSlots slots,
    LargerDevice larger,
    ILogger<MergeJobRunner> logger)
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(2);

    // Retries are for outages (database, shutdown), not for merges that fail: those end the job with their reason.
    [AutomaticRetry(Attempts = 5, DelaysInSeconds = [5, 15, 60, 300, 900], OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    public async Task RunAsync(Guid mergeId, CancellationToken cancellationToken)
    {
        var job = await db.Merges.SingleOrDefaultAsync(m => m.Id == mergeId, cancellationToken);
        if (job is null)
        {
            LogMissing(mergeId);
            return;
        }
        if (job.IsFinished) return;
        // The submitting request's trace continues here, so API and worker log lines of one merge share a trace id.
        using var span = Tracing.Source.StartActivity("merge", ActivityKind.Consumer, Tracing.Parent(job.TraceParent));
        span?.SetTag("merge.id", mergeId.ToString());
        span?.SetTag("merge.method", job.Method);
        var clock = Stopwatch.StartNew();
        // A learning merge runs on its slot's own device; a data-free one on the CPU (docs/deployment.md, "Devices").
        using var lease = MergeMethods.Find(job.Method)?.NeedsAdaptationData == true ? slots.Acquire() : null;
        var deviceName = lease?.Device ?? "cpu";
        var host = options.Value.HostId;
        job.Start(time.GetUtcNow(), host, deviceName);
        span?.SetTag("merge.attempt", job.Attempts);
        span?.SetTag("merge.device", deviceName);
        db.MergeEvents.Add(new MergeEvent(mergeId, job.Attempts == 1 ? MergeEventType.Started : MergeEventType.Retried, time.GetUtcNow(),
            job.Attempts == 1 ? $"started on {host}, {deviceName}" : $"attempt {job.Attempts} on {host}, {deviceName}, after the previous one stopped"));
        if (!await SavedOverAsync(job, cancellationToken)) return; // cancelled between the read and the start: nothing runs
        LogStarted(mergeId, job.Method, job.Attempts);
        if (job.Attempts == 1 && CallbackSender.Wants(job.RequestJson, CallbackEvent.Started.Wire())) CallbackSender.Enqueue(queue, mergeId, CallbackEvent.Started.Wire());
        var output = blobs.NewTempPath();
        PhaseTelemetry? phases = null;
        MergeFailureCode? failureCode = null;
        var snapshots = new RunSnapshotFile(options.Value.DataRoot, mergeId, TimeSpan.FromSeconds(options.Value.SnapshotSeconds));
        if (snapshots.Load() is { } saved)
        {
            LogResuming(mergeId, saved.Step);
            db.MergeEvents.Add(new MergeEvent(mergeId, MergeEventType.Resumed, time.GetUtcNow(), $"resumed from the snapshot at step {saved.Step}", step: saved.Step));
            await db.SaveChangesAsync(cancellationToken);
        }
        try
        {
            var plan = await StoredMergePlan.ReadAsync(job, db, blobs, cancellationToken);
            phases = new PhaseTelemetry(metrics, job.Method, span?.Context ?? default);
            var progress = new ProgressWriter(scopes, mergeId, ProgressInterval, CallbackSender.Wants(job.RequestJson, CallbackEvent.Progress.Wire()) ? queue : null, phases);
            var device = TorchDevice.Choose(deviceName);
            MergeReport report;
            metrics.Running.Inc();
            try
            {
                report = await Task.Factory.StartNew(() =>
                {
                    TorchSharp.torch.set_num_threads(Environment.ProcessorCount); // per thread: set where the work runs
                    return MergeRun.Execute(plan, device, output, progress.Report, snapshots, options.Value.MergeMemoryLimitBytes,
                        baselines: Path.Combine(Path.GetFullPath(options.Value.DataRoot), BaselineScoreFiles.FolderName), ct: cancellationToken);
                }, cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            }
            finally
            {
                metrics.Running.Dec();
            }
            await progress.FlushAsync();
            var files = new List<CheckpointFile>();
            foreach (var name in report.Files)
            {
                var (sha, bytes) = await blobs.ImportAsync(Path.Combine(output, name), cancellationToken);
                files.Add(new CheckpointFile(name, sha, bytes));
            }
            await db.Entry(job).ReloadAsync(cancellationToken);
            if (job.IsFinished)
            {
                snapshots.Delete();
                return; // cancelled while it ran: the results are not published
            }
            report = report with { Run = report.Run is { } run ? run with { Host = host } : null }; // the run record names this host too
            job.Succeed(files, JsonSerializer.Serialize(report, JsonSerializerOptions.Web), time.GetUtcNow());
            db.MergeEvents.Add(new MergeEvent(mergeId, MergeEventType.Succeeded, time.GetUtcNow(), $"succeeded with {files.Count} files"));
            LogSucceeded(mergeId, files.Count);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Either the merge was cancelled (Hangfire saw its job deleted) or the worker is shutting down (re-queue it).
            if (!await WasCancelledAsync(job)) throw;
            snapshots.Delete();
            LogCancelled(mergeId); // the API queued the callback when it cancelled
            Measure(job, clock.Elapsed, null);
            return;
        }
        catch (Exception e) when (!IsRetryable(e, cancellationToken))
        {
            await db.Entry(job).ReloadAsync(CancellationToken.None);
            if (job.IsFinished)
            {
                snapshots.Delete();
                return;
            }
            if (e is DeviceMemoryExceededException tooLarge
                && await larger.RequeueAsync(job, tooLarge, MergeMethods.Find(job.Method)?.NeedsAdaptationData == true, CancellationToken.None))
                LogRequeued(mergeId, job.QueueJobId);   // saved below; a queued merge sends no callback
            else
                failureCode = Fail(job, e);
        }
        finally
        {
            phases?.EndPhase();
            if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
        }
        // The saved state goes before the final state is visible, so no client ever sees a finished merge with a state
        // left behind; should this save fail, the retry starts over and, being deterministic, ends the same.
        if (job.IsFinished) snapshots.Delete();
        if (!await SavedOverAsync(job, CancellationToken.None))
        {
            snapshots.Delete();
            LogCancelled(mergeId); // cancelled while its end was being saved: the cancellation stands, nothing is published
            return;
        }
        if (!job.IsFinished) return;
        Measure(job, clock.Elapsed, failureCode);
        CallbackSender.Enqueue(queue, mergeId);
    }

    private MergeFailureCode Fail(MergeJob job, Exception e)
    {
        // libtorch appends its C++ stack to messages; the first line is the reason.
        var reason = e.Message.Split('\n', 2)[0].Trim();
        var code = FailureCode(e);
        job.Fail(reason, time.GetUtcNow());
        db.MergeEvents.Add(new MergeEvent(job.Id, MergeEventType.Failed, time.GetUtcNow(), reason, errorCode: code));
        LogFailed(e, job.Id, reason);
        return code;
    }

    private void Measure(MergeJob job, TimeSpan elapsed, MergeFailureCode? failureCode)
    {
        var status = job.Status.ToString().ToLowerInvariant();
        metrics.MergeDuration.WithLabels(job.Method, status).Observe(elapsed.TotalSeconds);
        Activity.Current?.SetTag("merge.status", status);
        if (job.Status == MergeStatus.Failed)
        {
            metrics.Failures.WithLabels((failureCode ?? MergeFailureCode.MergeFailed).Wire()).Inc();
            Activity.Current?.SetStatus(ActivityStatusCode.Error, job.Error);
        }
    }

    /// <summary>The stable code a failed event carries: what kind of failure, for clients to branch on.</summary>
    private static MergeFailureCode FailureCode(Exception e) => e switch
    {
        IncompatibleCheckpointsException => MergeFailureCode.InputsIncompatible,
        CheckpointFormatException or AdaMerging.Domain.Tensors.SafetensorsFormatException or ArgumentException or KeyNotFoundException => MergeFailureCode.InvalidInput,
        _ => MergeFailureCode.MergeFailed,
    };

    /// <summary>
    /// Saves the merge's move; false when its status changed meanwhile (its owner cancelled it: the status is a
    /// concurrency token), and then nothing of this save is kept. Any other change of status is not expected: it throws.
    /// </summary>
    private async Task<bool> SavedOverAsync(MergeJob job, CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
            return true;
        }
        catch (DbUpdateConcurrencyException)
        {
            db.ChangeTracker.Clear();
            var now = await db.Merges.AsNoTracking().SingleAsync(m => m.Id == job.Id, CancellationToken.None);
            if (now.Status == MergeStatus.Cancelled) return false;
            throw;
        }
    }

    private async Task<bool> WasCancelledAsync(MergeJob job)
    {
        await db.Entry(job).ReloadAsync(CancellationToken.None);
        return job.Status == MergeStatus.Cancelled;
    }

    private static bool IsRetryable(Exception e, CancellationToken ct) =>
        (e is OperationCanceledException && ct.IsCancellationRequested) || e is NpgsqlException || e is DbUpdateException;

    [LoggerMessage(LogLevel.Warning, "Merge {MergeId} is not in the database; nothing to run")]
    private partial void LogMissing(Guid mergeId);

    [LoggerMessage(LogLevel.Information, "Merge {MergeId} ({Method}) started, attempt {Attempt}")]
    private partial void LogStarted(Guid mergeId, string method, int attempt);

    [LoggerMessage(LogLevel.Information, "Merge {MergeId} resumes AdaMerging from its saved state at step {Step}")]
    private partial void LogResuming(Guid mergeId, int step);

    [LoggerMessage(LogLevel.Information, "Merge {MergeId} succeeded: {Files} files")]
    private partial void LogSucceeded(Guid mergeId, int files);

    [LoggerMessage(LogLevel.Information, "Merge {MergeId} was cancelled while it ran")]
    private partial void LogCancelled(Guid mergeId);

    [LoggerMessage(LogLevel.Information, "Merge {MergeId} is over its device's memory; re-queued for a larger device (job {QueueJobId})")]
    private partial void LogRequeued(Guid mergeId, string? queueJobId);

    [LoggerMessage(LogLevel.Warning, "Merge {MergeId} failed: {Reason}")]
    private partial void LogFailed(Exception exception, Guid mergeId, string reason);
}
