using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Models;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Merging;

/// <summary>The tasks' heads and data, decoded when the job runs (archives lazily, here), on the compute device.</summary>
public sealed class TaskInputs : IDisposable
{
    private readonly IReadOnlyList<PlannedTask> _tasks;
    private readonly bool _needsAdaptation;
    private readonly ModelFolder _base;
    private readonly Device _device;
    private readonly List<ClassificationHead?> _heads = [];
    private readonly List<Tensor?> _adaptation = [];
    private readonly List<(Tensor Pixels, Tensor Labels)?> _evaluation = [];
    private Dictionary<string, Tensor>? _fixed;

    /// <param name="needsAdaptation">Whether the method learns from the tasks' unlabeled data (and so needs the model).</param>
    public TaskInputs(IReadOnlyList<PlannedTask> tasks, bool needsAdaptation, ModelFolder baseFolder, Device device)
    {
        _tasks = tasks;
        _needsAdaptation = needsAdaptation;
        _base = baseFolder;
        _device = device;
        var imageSize = baseFolder.Config?.ImageSize;
        foreach (var t in tasks)
        {
            _heads.Add(t.HeadPath is null ? null : ClassificationHead.Load(t.HeadPath, ScalarType.Float32, device));
            _adaptation.Add(t.AdaptationPath is null ? null : Load(t.AdaptationPath, imageSize).Pixels);
            if (t.EvaluationPath is null)
            {
                _evaluation.Add(null);
                continue;
            }
            var (pixels, labels) = Load(t.EvaluationPath, imageSize);
            _evaluation.Add((pixels, labels ?? throw new CheckpointFormatException($"task '{t.Name}': the evaluation data has no labels")));
        }
    }

    public bool NeedsModel => _needsAdaptation || HasEvaluation;

    public bool HasEvaluation => _evaluation.Any(e => e is not null);

    public (Tensor Pixels, Tensor Labels, ClassificationHead Head)? Evaluation(int task) =>
        _evaluation[task] is var (p, l) && _heads[task] is { } h ? (p, l, h) : null;

    public List<AdaMergingTask> Adaptation() => _tasks.Select((t, k) => new AdaMergingTask(t.Name,
        _heads[k] ?? throw new ArgumentException($"task '{t.Name}' has no head"),
        _adaptation[k] ?? throw new ArgumentException($"task '{t.Name}' has no adaptation data"))).ToList();

    /// <summary>Floating parameters the forward needs but the merge leaves at the base (excluded, or not in every task).</summary>
    public Dictionary<string, Tensor> FixedParameters(TaskVectors vectors)
    {
        if (_fixed is not null) return _fixed;
        var merged = vectors.Names.ToHashSet(StringComparer.Ordinal);
        // Only what the vision encoder reads (a full CLIP's text tower never runs here), e.g. the base's projection
        // when the tasks have none (frozen, docs/algorithm.md, "The model").
        _fixed = _base.Weights.Tensors.Where(t => t.DType.IsFloatingPoint && !merged.Contains(t.Name) && ClipModel.ReadsTensor(t.Name))
            .ToDictionary(t => t.Name, t => _base.Weights.Read(t.Name, ScalarType.Float32).to(_device), StringComparer.Ordinal);
        return _fixed;
    }

    public void Dispose()
    {
        foreach (var h in _heads) h?.Dispose();
        foreach (var a in _adaptation) a?.Dispose();
        foreach (var e in _evaluation)
            if (e is var (p, l))
            {
                p.Dispose();
                l.Dispose();
            }
        if (_fixed is not null) ModelParameters.Dispose(_fixed);
    }

    private (Tensor Pixels, Tensor? Labels) Load(string path, int? imageSize)
    {
        var info = DatasetInfo.Inspect(path, new UploadLimits());
        var (pixels, labels) = info.Format == DatasetFormat.Tensors
            ? TensorDataset.Load(path)
            : ImageArchive.Load(path, imageSize ?? throw new CheckpointFormatException("image archives need a CLIP base to know the image size"), new UploadLimits());
        return (pixels.to(_device), labels?.to(_device));
    }
}
