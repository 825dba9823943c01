using AdaMerging.Domain.Checkpoints;

namespace AdaMerging.Domain.Store;

public enum CheckpointStatus
{
    /// <summary>Files may still be added; not usable in a merge.</summary>
    Open,

    /// <summary>Checked as a whole and described; usable in merges; its files no longer change.</summary>
    Sealed,
}

/// <summary>One file of a checkpoint: its name in the model folder over a content-addressed blob.</summary>
public sealed record CheckpointFile(string FileName, string Sha256, long Bytes);

/// <summary>An uploaded checkpoint: named files over blobs, and once sealed, what they hold.</summary>
public sealed class Checkpoint : IListed, IAnnotated
{
    private readonly List<CheckpointFile> _files = [];

    private Checkpoint() { }

    public Checkpoint(Guid id, string name, DateTimeOffset createdAt)
    {
        Id = id;
        Name = name;
        CreatedAt = createdAt;
        Status = CheckpointStatus.Open;
    }

    public Guid Id { get; private set; }

    /// <summary>Who uploaded it; only they (and admins) can see or use it.</summary>
    public string Owner { get; private set; } = "";

    public void OwnedBy(string owner) => Owner = owner;

    public string Name { get; private set; } = "";

    public CheckpointStatus Status { get; private set; }

    public IReadOnlyList<CheckpointFile> Files => _files;

    public long Bytes { get; private set; }

    public CheckpointFormat? Format { get; private set; }

    /// <summary>The layout its architecture recognised (<see cref="Architectures.ModelArchitectures"/>), or "unknown".</summary>
    public string? Layout { get; private set; }

    public int TensorCount { get; private set; }

    public long ParameterCount { get; private set; }

    public List<string> DTypes { get; private set; } = [];

    /// <summary>The model's config as JSON (read from config.json or inferred from shapes), for checkpoints of a registered architecture.</summary>
    public string? ConfigJson { get; private set; }

    public bool ConfigInferred { get; private set; }

    public int? FeatureSize { get; private set; }

    /// <summary>Tensors holding NaN or ±Inf: accepted, but reported.</summary>
    public List<string> NonFiniteTensors { get; private set; } = [];

    public DateTimeOffset CreatedAt { get; private set; }

    public DateTimeOffset? SealedAt { get; private set; }

    /// <summary>The user's own labels (bounded by <see cref="ResourceMetadata"/>).</summary>
    public Dictionary<string, string> Metadata { get; private set; } = [];

    public void Annotate(IReadOnlyDictionary<string, string> metadata) => Metadata = new Dictionary<string, string>(metadata, StringComparer.Ordinal);

    /// <summary>Adds a file, replacing one of the same name.</summary>
    public void PutFile(CheckpointFile file)
    {
        if (Status != CheckpointStatus.Open) throw new InvalidOperationException($"checkpoint {Id} is sealed; its files cannot change");
        _files.RemoveAll(f => f.FileName == file.FileName);
        _files.Add(file);
        Bytes = _files.Sum(f => f.Bytes);
    }

    public void RemoveFile(string fileName)
    {
        if (Status != CheckpointStatus.Open) throw new InvalidOperationException($"checkpoint {Id} is sealed; its files cannot change");
        _files.RemoveAll(f => f.FileName == fileName);
        Bytes = _files.Sum(f => f.Bytes);
    }

    public void Seal(CheckpointDescription description, DateTimeOffset now)
    {
        if (Status != CheckpointStatus.Open) throw new InvalidOperationException($"checkpoint {Id} is already sealed");
        Format = description.Format;
        Layout = description.Layout;
        TensorCount = description.TensorCount;
        ParameterCount = description.ParameterCount;
        DTypes = [.. description.DTypes];
        ConfigJson = description.ConfigJson;
        ConfigInferred = description.ConfigInferred;
        FeatureSize = description.FeatureSize;
        NonFiniteTensors = [.. description.NonFiniteTensors];
        Status = CheckpointStatus.Sealed;
        SealedAt = now;
    }
}

/// <summary>What a sealed checkpoint holds, as its files describe it.</summary>
public sealed record CheckpointDescription(
    CheckpointFormat Format,
    string Layout,
    int TensorCount,
    long ParameterCount,
    IReadOnlyList<string> DTypes,
    string? ConfigJson,
    bool ConfigInferred,
    int? FeatureSize,
    IReadOnlyList<string> NonFiniteTensors)
{
    public static CheckpointDescription Of(ModelFolder folder, IReadOnlyList<string> nonFinite) => new(
        folder.Format,
        folder.Layout,
        folder.Weights.Tensors.Count,
        folder.Weights.Tensors.Sum(t => t.ElementCount),
        folder.Weights.Tensors.Select(t => t.DType.Name).Distinct().Order(StringComparer.Ordinal).ToList(),
        folder.Spec is null ? null : System.Text.Json.JsonSerializer.Serialize(folder.Spec.Config, System.Text.Json.JsonSerializerOptions.Web),
        folder.ConfigInferred,
        folder.FeatureSize,
        nonFinite);
}
