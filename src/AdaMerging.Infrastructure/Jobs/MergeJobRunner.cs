using System.Text.Json;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Compute;
using AdaMerging.Domain.Jobs;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Store;
using AdaMerging.Infrastructure.Blobs;
using AdaMerging.Infrastructure.Options;
using AdaMerging.Infrastructure.Persistence;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AdaMerging.Infrastructure.Jobs;

/// <summary>
/// Runs one merge. It receives only the id and re-reads everything, so running it twice is harmless: a finished
/// merge is left alone and an interrupted one starts over. Failures of the merge itself end the job with the
/// reason; database outages and shutdown propagate so that Hangfire retries or re-queues it.
/// </summary>
public sealed partial class MergeJobRunner(
    AdaMergingDbContext db,
    BlobStore blobs,
    TimeProvider time,
    IOptions<AdaMergingOptions> options,
    ILogger<MergeJobRunner> logger)
{
    [AutomaticRetry(Attempts = 5, OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    public async Task RunAsync(Guid mergeId, CancellationToken cancellationToken)
    {
        var job = await db.Merges.SingleOrDefaultAsync(m => m.Id == mergeId, cancellationToken);
        if (job is null)
        {
            LogMissing(mergeId);
            return;
        }
        if (job.IsFinished) return;
        job.Start(time.GetUtcNow());
        await db.SaveChangesAsync(cancellationToken);
        LogStarted(mergeId, job.Method, job.Attempts);
        try
        {
            var (sha, bytes) = await MergeAsync(job, cancellationToken);
            job.Succeed(sha, bytes, time.GetUtcNow());
            LogSucceeded(mergeId, sha);
        }
        catch (Exception e) when (!IsRetryable(e, cancellationToken))
        {
            job.Fail(e.Message, time.GetUtcNow());
            LogFailed(e, mergeId, e.Message);
        }
        await db.SaveChangesAsync(CancellationToken.None);
    }

    private async Task<(string Sha256, long Bytes)> MergeAsync(MergeJob job, CancellationToken ct)
    {
        var request = JsonSerializer.Deserialize<MergeRequest>(job.RequestJson, JsonSerializerOptions.Web)
            ?? throw new InvalidOperationException("the stored request is empty");
        var ids = request.Tasks.Select(t => t.Checkpoint).Prepend(request.Base).Distinct().ToList();
        var checkpoints = await db.Checkpoints.AsNoTracking().Where(c => ids.Contains(c.Id)).ToDictionaryAsync(c => c.Id, ct);
        Checkpoint Find(Guid id, string role) =>
            checkpoints.GetValueOrDefault(id) ?? throw new InvalidOperationException($"{role} checkpoint {id} no longer exists");
        var output = blobs.NewTempPath(".safetensors");
        var folders = new List<ModelFolder>();
        try
        {
            folders.Add(Open(Find(request.Base, "base"), "base"));
            foreach (var task in request.Tasks) folders.Add(Open(Find(task.Checkpoint, $"task '{task.Name}'"), $"task '{task.Name}'"));
            var device = TorchDevice.Choose(options.Value.Device);
            var lambda = request.Options?.Lambda ?? MergeOptions.DefaultLambda;
            await Task.Factory.StartNew(
                () => TaskArithmetic.Merge(folders[0].Weights, folders.Skip(1).Select(f => f.Weights).ToList(), lambda, output, device, ct),
                ct, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            return await blobs.ImportAsync(output, ct);
        }
        finally
        {
            folders.ForEach(f => f.Dispose());
            File.Delete(output);
        }
    }

    private ModelFolder Open(Checkpoint checkpoint, string role)
    {
        try
        {
            return blobs.OpenFolder(checkpoint);
        }
        catch (Exception e) when (e is CheckpointFormatException or AdaMerging.Domain.Tensors.SafetensorsFormatException)
        {
            throw new InvalidOperationException($"{role} checkpoint {checkpoint.Id}: {e.Message}", e);
        }
    }

    private static bool IsRetryable(Exception e, CancellationToken ct) =>
        (e is OperationCanceledException && ct.IsCancellationRequested) || e is NpgsqlException || e is DbUpdateException;

    [LoggerMessage(LogLevel.Warning, "Merge {MergeId} is not in the database; nothing to run")]
    private partial void LogMissing(Guid mergeId);

    [LoggerMessage(LogLevel.Information, "Merge {MergeId} ({Method}) started, attempt {Attempt}")]
    private partial void LogStarted(Guid mergeId, string method, int attempt);

    [LoggerMessage(LogLevel.Information, "Merge {MergeId} succeeded: model {Sha256}")]
    private partial void LogSucceeded(Guid mergeId, string sha256);

    [LoggerMessage(LogLevel.Warning, "Merge {MergeId} failed: {Reason}")]
    private partial void LogFailed(Exception exception, Guid mergeId, string reason);
}
