using System.Globalization;
using System.Text.RegularExpressions;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Heads;
using AdaMerging.Domain.Tensors;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Architectures.Clip;

/// <summary>A recognised CLIP ViT: its config, whether a text tower is carried beside it, and what the service asks of it.</summary>
public sealed partial class ClipVisionSpec(IArchitecture architecture, string layout, ClipVisionConfig config, bool configInferred, int featureSize, bool hasTextTower)
    : ModelSpec(architecture, layout, configInferred), IZeroShotHeads
{
    public override ClipVisionConfig Config { get; } = config;

    /// <summary>A full CLIP (Hugging Face CLIPModel or open_clip): the vision tower with a text tower beside it.</summary>
    public bool HasTextTower { get; } = hasTextTower;

    /// <summary>The image mean and std per channel when the checkpoint's own config gives them (open_clip's preprocess_cfg); CLIP's otherwise.</summary>
    public ImageNormalization? Normalization { get; init; }

    public override string Describe() => Config.Describe();

    public override DatasetModality Input => DatasetModality.Images;

    public override int FeatureSize { get; } = featureSize;

    public override bool ReadsTensor(string name) => ClipModel.ReadsTensor(name);

    public override IModelView View(ITensorSource weights) =>
        Layout == ClipVisionArchitecture.OpenClipLayout ? new OpenClipAsHuggingFace(new SameNames(weights)) : new SameNames(weights);

    public override IModel CreateModel(ITensorSource weights) =>
        new ClipModel(Config, Layout == ClipVisionArchitecture.OpenClipLayout ? new OpenClipAsHuggingFace(new SameNames(weights)) : null);

    /// <summary>The transformer block of a tensor in either layout (docs/algorithm.md, "Layer-wise coefficients").</summary>
    public override int? BlockOf(string tensor) => Block(tensor);

    /// <summary>The transformer block of a CLIP tensor's name in either layout (encoder.layers.N or transformer.resblocks.N).</summary>
    public static int? Block(string tensor) =>
        BlockIndex().Match(tensor) is { Success: true } m ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : null;

    /// <summary>Each block's q, k, v and output projections and its MLP's two layers, in Hugging Face names (an open_clip base has none under its own names).</summary>
    public override IReadOnlyList<string> ObservedLinearLayers(IReadOnlyCollection<string> mergedTensors) =>
        mergedTensors.Where(n => ObservedLinear().IsMatch(n)).Select(n => n[..^".weight".Length]).ToList();

    public override IReadOnlyList<string> DataProblems(DatasetInfo data, string label)
    {
        var problems = new List<string>();
        if (data.Channels != Config.NumChannels)
            problems.Add($"{label} has {data.Channels} channel(s) where the model takes {Config.NumChannels}");
        if (data.Format == DatasetFormat.Tensors && (data.Height != Config.ImageSize || data.Width != Config.ImageSize))
            problems.Add($"{label} holds {data.Height}×{data.Width} images where the model takes {Config.ImageSize}×{Config.ImageSize}");
        return problems;
    }

    public override (IExampleRows Rows, Tensor? Labels) OpenRows(string path, DatasetInfo info, string scratchPath, int? maxSequenceLength = null) =>
        ImageDatasets.Open(path, info, new ClipImages(Config.ImageSize, Normalization ?? ClipPreprocessing.Clip), scratchPath);

    public override ModelMemory Memory => ClipMemory.Of(Config);

    /// <summary>A full CLIP's CLIPConfig (the base's own when it came with one), else the vision tower's CLIPVisionConfig.</summary>
    public override string MergedConfigJson(ModelFolder baseFolder) => HasTextTower ? FullClipConfig.Json(baseFolder, Config) : Config.ToJson();

    public override string? TransformersClass(ModelFolder baseFolder) => HasTextTower ? "CLIPModel" : "CLIPVisionModel";

    /// <summary>Tokenizer files that came with the checkpoint must be usable, or the upload is refused when sealed.</summary>
    public override void Verify(ModelFolder folder) => _ = ClipTokenizer.FromFiles(folder.SideFiles);

    public HeadInfo BuildZeroShotHead(ModelFolder folder, ZeroShotHeadSpec spec, string path, UploadLimits limits, Device device, CancellationToken ct) =>
        ZeroShotHeads.Build(folder, spec, path, limits, device, ct);

    [GeneratedRegex(@"(?:encoder\.layers|transformer\.resblocks)\.(\d+)\.")]
    private static partial Regex BlockIndex();

    [GeneratedRegex(@"^vision_model\.encoder\.layers\.\d+\.(?:self_attn\.(?:q|k|v|out)_proj|mlp\.fc[12])\.weight$")]
    private static partial Regex ObservedLinear();
}
