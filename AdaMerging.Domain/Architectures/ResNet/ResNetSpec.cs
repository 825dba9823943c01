using AdaMerging.Domain.Architectures.Clip;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Tensors;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Architectures.ResNet;

/// <summary>A recognised ResNet: its config, layout, preprocessing, and what the service asks of it (docs/algorithm.md, "ResNet").</summary>
public sealed class ResNetSpec(IArchitecture architecture, string layout, ResNetConfig config, ResNetNames names, ResNetPreprocessing preprocessing, bool configInferred)
    : ModelSpec(architecture, layout, configInferred)
{
    public override ResNetConfig Config { get; } = config;

    public ResNetNames Names { get; } = names;

    public ResNetPreprocessing Preprocessing { get; } = preprocessing;

    public override string Describe() => Config.Describe();

    public override DatasetModality Input => DatasetModality.Images;

    public override int FeatureSize => Config.FeatureSize;

    public override (string Weight, string Bias)? Classifier => Names.Classifier;

    public override string NamePrefix => Names.Prefix;

    /// <summary>Everything but the classifier (the model gives features; heads are applied by the service).</summary>
    public override bool ReadsTensor(string name) => !IsClassifier(name);

    /// <summary>A running mean or variance shares its batch norm's weight's coefficient.</summary>
    public override string? SharesCoefficientWith(string tensor) =>
        ResNetNames.IsRunningStatistic(tensor) ? tensor[..tensor.LastIndexOf('.')] + ".weight" : null;

    public override bool HasBatchNorm => true;

    public override bool IsRunningStatistic(string tensor) => ResNetNames.IsRunningStatistic(tensor);

    /// <summary>A convolution as the matrix [out, in · kh · kw] (docs/algorithm.md, "TSV-M, Iso-C and Iso-CTS"): a ResNet is almost nothing but convolutions.</summary>
    public override IReadOnlyList<long> SpectralShape(string tensor, IReadOnlyList<long> shape) => shape.Count == 4 ? [shape[0], shape[1] * shape[2] * shape[3]] : shape;

    public override IModelView View(ITensorSource weights) => new SameNames(weights);

    public override IModel CreateModel(ITensorSource weights) => new ResNetModel(Config, Names);

    /// <summary>The residual block (over all stages, in forward order); the stem is before the blocks, nothing after them is merged.</summary>
    public override int? BlockOf(string tensor) => Names.BlockOf(tensor, Config.Depths);

    /// <summary>Every merged convolution, solved as the linear map of its input patches (docs/algorithm.md, "RegMean").</summary>
    public override IReadOnlyList<string> ObservedLinearLayers(IReadOnlyCollection<string> mergedTensors)
    {
        var merged = mergedTensors.ToHashSet(StringComparer.Ordinal);
        return [.. ResNetConvolutions.Of(Config, Preprocessing.ImageSize).Select(c => c.Name(Names)).Where(n => merged.Contains(n + ".weight"))];
    }

    public override IReadOnlyList<string> DataProblems(DatasetInfo data, string label) =>
        data.Channels == Config.NumChannels ? [] : [$"{label} has {data.Channels} channel(s) where the model takes {Config.NumChannels}"];

    public override (IExampleRows Rows, Tensor? Labels) OpenRows(string path, DatasetInfo info, string scratchPath, int? maxSequenceLength = null) =>
        ImageDatasets.Open(path, info, new ClipImages(Preprocessing.ImageSize, Preprocessing.Normalization), scratchPath);

    public override ModelMemory Memory => ResNetMemory.Of(Config, Preprocessing.ImageSize);

    /// <summary>The base's own config.json when it came with one, else Hugging Face's ResNetConfig for its shape.</summary>
    public override string MergedConfigJson(ModelFolder baseFolder) => baseFolder.ConfigJson ?? Config.ToJson(TransformersClass(baseFolder) is { } c ? [c] : null);

    /// <summary>Hugging Face's classes for its layouts; torchvision's state dicts load with torchvision, not transformers.</summary>
    public override string? TransformersClass(ModelFolder baseFolder) =>
        ReferenceEquals(Names, ResNetNames.HuggingFaceClassifier) ? "ResNetForImageClassification"
        : ReferenceEquals(Names, ResNetNames.HuggingFace) ? "ResNetModel" : null;
}
