using System.Text.Json;
using System.Text.Json.Serialization;
using AdaMerging.Domain.Architectures;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Store;

namespace AdaMerging.Api.Endpoints;

public sealed record CheckpointResponse(
    Guid Id,
    string Name,
    CheckpointStatus Status,
    IReadOnlyList<CheckpointFile> Files,
    long Bytes,
    CheckpointFormat? Format,
    string? Layout,
    string? Architecture,
    int TensorCount,
    long ParameterCount,
    IReadOnlyList<string> DTypes,
    JsonElement? Config,
    bool ConfigInferred,
    int? FeatureSize,
    IReadOnlyList<string> NonFiniteTensors,
    DateTimeOffset CreatedAt,
    DateTimeOffset? SealedAt,
    IReadOnlyDictionary<string, string> Metadata)
{
    /// <summary>Files of this upload that were not stored, each with why (a README, .gitattributes, training state); null when none was skipped.</summary>
    public IReadOnlyList<SkippedFile>? SkippedFiles { get; init; }

    public static CheckpointResponse From(Checkpoint c) => new(c.Id, c.Name, c.Status, c.Files, c.Bytes, c.Format, c.Layout, ModelArchitectures.OfLayout(c.Layout)?.Name,
        c.TensorCount, c.ParameterCount, c.DTypes, c.ConfigJson is null ? null : JsonDocument.Parse(c.ConfigJson).RootElement.Clone(),
        c.ConfigInferred, c.FeatureSize, c.NonFiniteTensors, c.CreatedAt, c.SealedAt, c.Metadata);
}

/// <summary>A file an upload brought that the service does not store, and why.</summary>
public sealed record SkippedFile(string FileName, string Reason)
{
    /// <summary>The files of a folder the service does not read (<see cref="ModelFolder.Skipped"/>), by name.</summary>
    public static List<SkippedFile> Of(IEnumerable<string> fileNames) =>
        ModelFolder.Skipped(fileNames).Select(k => new SkippedFile(k.Key, k.Value)).OrderBy(k => k.FileName, StringComparer.Ordinal).ToList();
}

public sealed record TensorResponse(string Name, string DType, IReadOnlyList<long> Shape);

/// <summary>
/// A checkpoint's tensors in file order, in the one list shape (docs/api.md, "Lists"): the ids are tensor names,
/// <c>?after=</c> the previous page's <see cref="LastId"/>. With the deprecated <c>?offset=</c> the answer also carries the
/// old fields (offset, limit, tensors), for one release.
/// </summary>
public sealed record TensorPage(IReadOnlyList<TensorResponse> Data, bool HasMore, string? FirstId, string? LastId, int Total,
    [property: Obsolete("Page with ?after= (data, lastId); the offset form goes in the next release")]
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Offset = null,
    [property: Obsolete("Page with ?after= (data, lastId); the offset form goes in the next release")]
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Limit = null,
    [property: Obsolete("The same as data; read data")]
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<TensorResponse>? Tensors = null);
