using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Tensors;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Architectures.ResNet;

/// <summary>
/// ResNets (BasicBlock and Bottleneck: ResNet-18/34/50 and their kin) in torchvision's state-dict names or Hugging
/// Face's ResNetModel / ResNetForImageClassification, recognised from tensor names; the config from config.json
/// (checked against the shapes) or read off the shapes, the preprocessing from preprocessor_config.json
/// (docs/algorithm.md, "ResNet").
/// </summary>
public sealed class ResNetArchitecture : IArchitecture, IReferenceChecked, IRandomProblems
{
    public const string TorchVisionLayout = "torchvision_resnet";
    public const string HuggingFaceLayout = "hugging_face_resnet";

    public string Name => "resnet";

    public string Summary => "ResNets with basic or bottleneck blocks: torchvision state dicts or Hugging Face ResNetModel / ResNetForImageClassification";

    public IReadOnlyList<string> Layouts { get; } = [TorchVisionLayout, HuggingFaceLayout];

    public IReadOnlySet<string> SideFiles { get; } = new HashSet<string>(StringComparer.Ordinal) { ResNetPreprocessing.FileName };

    /// <summary>The benchmark shapes: a tiny one, and ResNet-18 and ResNet-50 at 64 px (what this project's CPUs afford, docs/performance.md).</summary>
    public static readonly IReadOnlyDictionary<string, (ResNetConfig Config, int ImageSize)> Shapes = new Dictionary<string, (ResNetConfig, int)>(StringComparer.Ordinal)
    {
        ["resnet-tiny"] = (new ResNetConfig(ResNetConfig.Basic, [1, 2], [8, 16], 8), 32),
        ["resnet-18"] = (new ResNetConfig(ResNetConfig.Basic, [2, 2, 2, 2], [64, 128, 256, 512]), 64),
        ["resnet-50"] = (new ResNetConfig(ResNetConfig.Bottleneck, [3, 4, 6, 3], [256, 512, 1024, 2048]), 64),
    };

    public IReadOnlyList<string> Sizes => [.. Shapes.Keys];

    public string Describe(string size) => $"{Shapes[size].Config.Describe()}, {Shapes[size].ImageSize} px";

    public IRandomProblem Random(string size, int k, int batch, ScalarType dtype, Device device) =>
        new ResNetRandomProblem(Shapes[size].Config, Shapes[size].ImageSize, k, batch, dtype, device: device);

    public IEnumerable<(string Name, double Difference)> ReferenceChecks(string fixtures, Device device) => ResNetReferenceChecks.Run(fixtures, device);

    public ModelSpec? Recognise(ITensorSource weights, ModelFiles files)
    {
        if (ResNetNames.Of(weights) is not { } names) return null;
        var layout = ReferenceEquals(names, ResNetNames.TorchVision) ? TorchVisionLayout : HuggingFaceLayout;
        var preprocessing = files.SideFiles.TryGetValue(ResNetPreprocessing.FileName, out var path) ? ResNetPreprocessing.Read(path) : ResNetPreprocessing.Default;
        bool inferred = files.ConfigJson is null;
        var config = files.ConfigJson is { } json ? ResNetConfig.Parse(json) : ResNetLayout.Infer(weights, names);
        var mismatches = ResNetLayout.Mismatches(config, weights, names);
        if (mismatches.Count > 0)
            throw new CheckpointFormatException($"the weights do not match {(inferred ? "the ResNet their shapes imply" : "config.json")}: {string.Join("; ", mismatches)}");
        return new ResNetSpec(this, layout, config, names, preprocessing, inferred);
    }
}
