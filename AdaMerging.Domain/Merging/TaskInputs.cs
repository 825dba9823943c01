using AdaMerging.Domain.Architectures;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Tensors;
using AdaMerging.Domain.Methods;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Merging;

/// <summary>
/// The tasks' heads (on the compute device; for language-model tasks the model's own output, <see cref="LanguageModelHead"/>) and data: tensor datasets are read from their files a batch at a time,
/// image archives are decoded once, when the job runs, into a uint8 scratch file read the same way; only labels are
/// held (docs/algorithm.md, "Memory"). A dataset named by several tasks or roles is opened once.
/// </summary>
public sealed class TaskInputs : IDisposable
{
    private readonly IReadOnlyList<PlannedTask> _tasks;
    private readonly bool _needsAdaptation;
    private readonly ModelFolder _base;
    private readonly Device _device;
    private readonly string _scratch;
    private readonly List<ITaskHead?> _heads = [];
    private readonly Dictionary<string, (IExampleRows Images, Tensor? Labels)> _datasets = new(StringComparer.Ordinal);
    private readonly List<IExampleRows?> _adaptation = [];
    private readonly List<(IExampleRows Images, Tensor? Labels)?> _evaluation = [];
    private Dictionary<string, Tensor>? _fixed;
    private readonly int? _maxSequenceLength;

    /// <param name="needsAdaptation">Whether the method learns from the tasks' unlabeled data (and so needs the model).</param>
    /// <param name="scratchDirectory">Where decoded archives go while the job runs (created when needed; the caller removes it).</param>
    /// <param name="checkpoints">The tasks' weights, in order: a task without a head resource takes its checkpoint's classifier, where the layout has one.</param>
    /// <param name="maxSequenceLength">Text models: tokens an example is cut to (null: the model's default).</param>
    public TaskInputs(IReadOnlyList<PlannedTask> tasks, bool needsAdaptation, ModelFolder baseFolder, Device device, string scratchDirectory,
        IReadOnlyList<ITensorSource>? checkpoints = null, int? maxSequenceLength = null)
    {
        _maxSequenceLength = maxSequenceLength;
        _tasks = tasks;
        _needsAdaptation = needsAdaptation;
        _base = baseFolder;
        _device = device;
        _scratch = scratchDirectory;
        LanguageModelling = AreLanguageModelling(tasks);
        try
        {
            foreach (var (t, k) in tasks.Select((t, k) => (t, k)))
            {
                _heads.Add(LanguageModelling ? new LanguageModelHead(TokenScores(baseFolder))
                    : t.HeadPath is not null ? ClassificationHead.Load(t.HeadPath, ScalarType.Float32, device)
                    : checkpoints is null ? null : Heads.CheckpointHeads.Load(baseFolder.Spec, checkpoints[k], ScalarType.Float32, device));
                _adaptation.Add(t.AdaptationPath is null ? null : Open(t.AdaptationPath).Images);
                if (t.EvaluationPath is null)
                {
                    _evaluation.Add(null);
                    continue;
                }
                var (images, labels) = Open(t.EvaluationPath);
                if (labels is null && !LanguageModelling) throw new CheckpointFormatException($"task '{t.Name}': the evaluation data has no labels");
                _evaluation.Add((images, labels));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public bool NeedsModel => _needsAdaptation || HasEvaluation;

    /// <summary>
    /// The tasks are a causal language model's: their data are prompts (docs/algorithm.md, "Language-model tasks"); the
    /// model runs as a language model and every task's head is its output matrix. A merge's tasks are all of one kind.
    /// </summary>
    public bool LanguageModelling { get; }

    /// <summary>Whether the tasks' data are prompts; throws when some tasks' are and others' are not.</summary>
    public static bool AreLanguageModelling(IReadOnlyList<PlannedTask> tasks)
    {
        var kinds = tasks.Select(t => new[] { t.AdaptationPath, t.EvaluationPath }.OfType<string>().Select(Text.PromptDataset.Is).ToList()).ToList();
        bool any = kinds.Any(k => k.Contains(true));
        if (any && kinds.Any(k => k.Contains(false)))
            throw new CheckpointFormatException("a merge's tasks are all language-model tasks (prompt data) or none: some tasks' data are prompts and others' are not");
        return any;
    }

    private static string TokenScores(ModelFolder baseFolder) => baseFolder.Spec?.TokenScores(baseFolder.Weights)
        ?? throw new CheckpointFormatException($"the tasks' data are prompts and the base ({baseFolder.Spec?.Describe() ?? "no architecture this service runs"}) is not a causal language model: it has no output over the vocabulary");

    public bool HasEvaluation => _evaluation.Any(e => e is not null);

    /// <summary>Whether every task has adaptation images (batch-norm statistics can be recomputed on them).</summary>
    public bool AllHaveAdaptation => _adaptation.All(a => a is not null);

    public (IExampleRows Images, Tensor Labels, ClassificationHead Head)? Evaluation(int task) =>
        _evaluation[task] is var (p, l) && l is not null && _heads[task] is ClassificationHead h ? (p, l, h) : null;

    /// <summary>Language-model task k's prompts with completions and the model's output head, when it has evaluation data.</summary>
    public (IExampleRows Prompts, LanguageModelHead Head)? CompletionEvaluation(int task) =>
        _evaluation[task] is var (p, _) && _heads[task] is LanguageModelHead h ? (p, h) : null;

    public List<AdaMergingTask> Adaptation() => _tasks.Select((t, k) => new AdaMergingTask(t.Name,
        _heads[k] ?? throw new ArgumentException($"task '{t.Name}' has no head"),
        _adaptation[k] ?? throw new ArgumentException($"task '{t.Name}' has no adaptation data"))).ToList();

    /// <summary>Task k's unlabeled adaptation images (RegMean needs no head with them).</summary>
    public IExampleRows AdaptationRows(int task) => _adaptation[task] ?? throw new ArgumentException($"task '{_tasks[task].Name}' has no adaptation data");

    /// <summary>Floating parameters the forward needs but the merge leaves at the base (excluded, or not in every task).</summary>
    public Dictionary<string, Tensor> FixedParameters(ITaskVectorSet vectors)
    {
        if (_fixed is not null) return _fixed;
        var merged = vectors.Names.ToHashSet(StringComparer.Ordinal);
        // Only what the model reads (a full CLIP's text tower never runs here), e.g. the base's projection
        // when the tasks have none (frozen, docs/algorithm.md, "The model").
        _fixed = _base.Weights.Tensors.Where(t => t.DType.IsFloatingPoint && !merged.Contains(t.Name) && _base.Spec?.ReadsTensor(t.Name) == true)
            .ToDictionary(t => t.Name, t => _base.Weights.Read(t.Name, ScalarType.Float32).to(_device), StringComparer.Ordinal);
        return _fixed;
    }

    /// <summary>A model's merged tensors with the fixed ones the forward needs beside them (<see cref="FixedParameters"/>): what the model runs on.</summary>
    public Dictionary<string, Tensor> WithFixed(IReadOnlyDictionary<string, Tensor> merged, ITaskVectorSet vectors) =>
        merged.Concat(FixedParameters(vectors).Where(f => !merged.ContainsKey(f.Key))).ToDictionary(StringComparer.Ordinal);

    public void Dispose()
    {
        foreach (var h in _heads) h?.Dispose();
        foreach (var (images, labels) in _datasets.Values)
        {
            images.Dispose();
            labels?.Dispose();
        }
        _datasets.Clear();
        if (_fixed is not null) ModelParameters.Dispose(_fixed);
        _fixed = null;
    }

    private (IExampleRows Images, Tensor? Labels) Open(string path)
    {
        if (_datasets.TryGetValue(path, out var opened)) return opened;
        var model = _base.Spec ?? throw new CheckpointFormatException(
            $"datasets are read as a model's input, and no registered architecture recognises the base ({ModelArchitectures.Described()})");
        var info = DatasetInfo.Inspect(path, new UploadLimits());
        var (rows, labels) = model.OpenRows(path, info, Path.Combine(_scratch, $"{_datasets.Count}.safetensors"), _maxSequenceLength);
        var dataset = (rows, labels is null ? null : OnDevice(labels));
        _datasets[path] = dataset;
        return dataset;
    }

    private Tensor OnDevice(Tensor t)
    {
        if (_device.type == TorchSharp.DeviceType.CPU) return t;
        using (t) return t.to(_device);
    }
}
