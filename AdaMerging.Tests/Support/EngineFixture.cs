using AdaMerging.Tests.Support;
using AdaMerging.Domain.Architectures.Clip;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Models;
using TorchSharp;
using AdaMerging.Domain.Methods;
using static TorchSharp.torch;

namespace AdaMerging.Tests.Support;

/// <summary>
/// A small multi-task problem on the tiny CLIP fixture: K "fine-tuned" encoders (the base plus seeded perturbations),
/// a normalising head and random unlabeled images per task.
/// </summary>
public sealed class EngineFixture : IDisposable
{
    private readonly List<ClassificationHead> _heads = [];

    public EngineFixture(int k, ScalarType dtype, int seed = 5, int images = 12)
    {
        using var folder = ClipTiny.OpenHuggingFace();
        Config = folder.Config!;
        Encoder = new ClipVisionEncoder(Config);
        var (_, theta0) = ClipFolders.LoadClip(folder, dtype, CPU);
        var g = new Generator((ulong)seed);
        var tasks = Enumerable.Range(0, k).Select(_ => theta0.ToDictionary(kv => kv.Key,
            kv => kv.Value.Plus(randn(kv.Value.shape, generator: g).Times(0.05).to_type(dtype)).detach())).ToList();
        Vectors = TaskVectors.Load(new AdaMerging.Domain.Tensors.InMemoryTensorSource(theta0), tasks.Select(t => (AdaMerging.Domain.Tensors.ITensorSource)new AdaMerging.Domain.Tensors.InMemoryTensorSource(t)).ToList(),
            [], dtype, CPU);
        for (int i = 0; i < k; i++)
        {
            _heads.Add(new ClassificationHead(randn([5, Config.ProjectionDim], generator: g).to_type(dtype), null, normalizeFeatures: true));
            Tasks.Add(new AdaMergingTask($"task{i}", _heads[i], new TensorImageRows(randn([images, 3, Config.ImageSize, Config.ImageSize], generator: g).to_type(dtype))));
        }
    }

    public ClipVisionConfig Config { get; }

    public ClipVisionEncoder Encoder { get; }

    public TaskVectors Vectors { get; }

    public List<AdaMergingTask> Tasks { get; } = [];

    public AdaMergingRun Run(AdaMergingSettings options, AdaMergingState? resume = null) =>
        new(Encoder, new Dictionary<string, Tensor>(), Vectors, LayerMap.Create(Vectors.Names, options.Granularity, options.LayerUnit),
            Tasks, options, resume);

    public void Dispose()
    {
        Vectors.Dispose();
        _heads.ForEach(h => h.Dispose());
        Tasks.ForEach(t => t.Adaptation.Dispose());
    }
}
