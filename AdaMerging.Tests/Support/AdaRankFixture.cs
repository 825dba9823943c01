using AdaMerging.Domain.Architectures;
using AdaMerging.Domain.Architectures.Clip;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Methods;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Tensors;
using static TorchSharp.torch;

namespace AdaMerging.Tests.Support;

/// <summary>
/// tools/make_adarank_fixture.py's inputs as the service reads them: the tiny CLIP in open_clip layout (its config
/// saying 4 heads), two tasks, their heads and images (all in float64, as the reference), and the reference values per variant.
/// </summary>
public sealed class AdaRankFixture : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly ModelFolder _folder;
    private readonly IModel _model;
    private readonly List<ClassificationHead> _heads = [];

    public AdaRankFixture()
    {
        System.IO.File.WriteAllText(_dir.File(OpenClipConfig.FileName), """
            {"model_cfg": {"embed_dim": 24, "quick_gelu": true, "vision_cfg": {"image_size": 16, "layers": 2, "width": 32, "patch_size": 4, "head_width": 8, "mlp_ratio": 2.0}}}
            """);
        _folder = ModelFolder.Open(new Dictionary<string, string>
        {
            ["open_clip_model.safetensors"] = ClipTiny.File("open_clip.safetensors"), [OpenClipConfig.FileName] = _dir.File(OpenClipConfig.FileName),
        });
        _model = _folder.Spec!.CreateModel(_folder.Weights);
        var sources = Enumerable.Range(0, 2).Select(k => (ITensorSource)SafetensorsFile.Open(File($"task{k}.safetensors"))).ToList();
        Vectors = TaskVectors.Load(_folder.Weights, sources, [], ScalarType.Float64, CPU);
        using var images = SafetensorsFile.Open(File("images.safetensors"));
        for (int k = 0; k < 2; k++)
        {
            _heads.Add(ClassificationHead.Load(File($"head{k}.safetensors"), ScalarType.Float64, CPU));
            Tasks.Add(new AdaMergingTask($"task{k}", _heads[k], new TensorImageRows(images.Read($"images{k}").to_type(ScalarType.Float64))));
        }
        Reference = SafetensorsFile.Open(File("reference.safetensors"));
    }

    public static string File(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "adarank", name);

    public TaskVectors Vectors { get; }

    public List<AdaMergingTask> Tasks { get; } = [];

    public SafetensorsFile Reference { get; }

    public Func<string, int?> BlockOf => _folder.Spec!.BlockOf;

    public RankComponents Components(AdaRankBase kind) =>
        RankComponents.Decompose(Vectors, new AdaRankSettings { Base = kind }, (name, shape) => AdaRankMethod.IsMasked(name, shape, BlockOf), CancellationToken.None);

    public AdaRankRun Run(RankComponents components, AdaRankSettings settings) =>
        new(_model, new Dictionary<string, Tensor>(), components, Tasks, settings, CPU);

    public void Dispose()
    {
        Reference.Dispose();
        Vectors.Dispose();
        _heads.ForEach(h => h.Dispose());
        Tasks.ForEach(t => t.Adaptation.Dispose());
        _model.Dispose();
        _folder.Dispose();
        _dir.Dispose();
    }
}
