using System.Text.Json;
using System.Text.Json.Serialization;
using AdaMerging.Domain.Jobs;
using AdaMerging.Infrastructure.Contract;
using AdaMerging.Domain.Store;
using AdaMerging.Domain.Tensors;
using AdaMerging.Infrastructure.Options;
using Microsoft.Extensions.Options;

namespace AdaMerging.Api.Endpoints;

/// <summary>Where to go next from a merge: its results once it has succeeded; its events, their live stream and its cancel at any time.</summary>
/// <param name="Cancel">POST here to cancel it (409 once it has ended).</param>
public sealed record MergeLinks(string Self, string? Model, string? Report, string? Archive, IReadOnlyList<string> Files, string Events, string EventStream,
    string Cancel);

/// <summary>
/// A page of merges, newest first, in the one list shape (docs/api.md, "Lists"): <c>?after=</c> the previous page's
/// <see cref="LastId"/>; <see cref="Total"/> counts every merge the filters match. The offset form (<c>?offset=</c>) is
/// deprecated and kept one release: with it the answer also carries the old fields (offset, limit, items).
/// </summary>
public sealed record MergePage(IReadOnlyList<MergeResponse> Data, bool HasMore, Guid? FirstId, Guid? LastId, int Total,
    [property: Obsolete("Page with ?after= (data, lastId); the offset form goes in the next release")]
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Offset = null,
    [property: Obsolete("Page with ?after= (data, lastId); the offset form goes in the next release")]
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Limit = null,
    [property: Obsolete("The same as data; read data")]
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<MergeResponse>? Items = null);

public sealed record MergeProgressResponse(MergePhase? Phase, int Step, int TotalSteps, double? Objective, double? ElapsedSeconds, double? EstimatedRemainingSeconds);

/// <param name="ExpiresAt">When a succeeded merge's results (model, files, archive) are removed; the report stays.</param>
/// <param name="ResultsExpired">True once they have been removed: downloads answer 410.</param>
/// <param name="Request">The request as submitted, with every option of its method given (defaults filled in).</param>
public sealed record MergeResponse(Guid Id, string Method, MergeStatus Status, DateTimeOffset CreatedAt, DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt, int Attempts, string? Error, MergeProgressResponse Progress, IReadOnlyList<CheckpointFile> Files, MergeLinks Links,
    DateTimeOffset? ExpiresAt, bool ResultsExpired, MergeRequest? Request, IReadOnlyDictionary<string, string> Metadata, string? Host, string? Device)
{
    /// <summary>An ETag over everything but what the clock alone changes (elapsed and estimated remaining seconds).</summary>
    public string StateTag(System.Text.Json.JsonSerializerOptions options)
    {
        var state = this with { Progress = Progress with { ElapsedSeconds = null, EstimatedRemainingSeconds = null } };
        var bytes = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(state, options);
        return $"\"{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes))[..32]}\"";
    }

    public static MergeResponse From(MergeJob j, DateTimeOffset now, TimeSpan retention)
    {
        var done = j.Status == MergeStatus.Succeeded && !j.ResultsExpired;
        var self = $"/merges/{j.Id}";
        var elapsed = j.StartedAt is { } started ? ((j.FinishedAt ?? now) - started).TotalSeconds : (double?)null;
        // Optimising dominates a merge: extrapolate its pace so far over the steps left.
        var remaining = j.Status == MergeStatus.Running && j.Step > 0 && elapsed is { } e ? e / j.Step * (j.TotalSteps - j.Step) : (double?)null;
        return new(j.Id, j.Method, j.Status, j.CreatedAt, j.StartedAt, j.FinishedAt, j.Attempts, j.Error,
            new MergeProgressResponse(MergeProtocol.ParseOptional<MergePhase>(j.Phase), j.Step, j.TotalSteps, j.Objective, elapsed, remaining), j.ResultFiles,
            new MergeLinks(self,
                done && j.ResultFiles.Any(f => f.FileName == ShardedSafetensorsWriter.SingleFileName) ? self + "/model" : null,
                done ? self + "/report" : null,
                done ? self + "/archive" : null,
                j.ResultFiles.Select(f => $"{self}/files/{f.FileName}").ToList(), self + "/events", self + "/events/stream", self + "/cancel"),
            j.Status == MergeStatus.Succeeded ? j.FinishedAt + retention : null, j.ResultsExpired,
            JsonSerializer.Deserialize<MergeRequest>(j.RequestJson, JsonSerializerOptions.Web)?.WithDefaults(), j.Metadata, j.Host, j.Device);
    }
}

/// <summary>Merges as the API shows them, at the service's clock and with its result retention.</summary>
public sealed class MergeView(TimeProvider time, IOptions<AdaMergingOptions> options)
{
    public MergeResponse Of(MergeJob job) => MergeResponse.From(job, time.GetUtcNow(), TimeSpan.FromSeconds(options.Value.ResultRetentionSeconds));
}

public static class MergeViewSetup
{
    public static IServiceCollection AddMergeViews(this IServiceCollection services) => services.AddSingleton<MergeView>();
}

