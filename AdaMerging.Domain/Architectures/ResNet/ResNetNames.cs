using System.Globalization;
using System.Text.RegularExpressions;
using AdaMerging.Domain.Tensors;

namespace AdaMerging.Domain.Architectures.ResNet;

/// <summary>
/// Where a ResNet's tensors are in each layout (docs/algorithm.md, "ResNet"). torchvision: <c>conv1</c>, <c>bn1</c>,
/// <c>layerN.M.convI</c> / <c>bnI</c>, <c>layerN.M.downsample.{0,1}</c>, <c>fc</c>. Hugging Face: the same modules as
/// <c>embedder.embedder.{convolution,normalization}</c>, <c>encoder.stages.S.layers.M.layer.I.*</c>,
/// <c>….shortcut.*</c>, under <c>resnet.</c> with <c>classifier.1</c> for ResNetForImageClassification. The model
/// reads each layout in its own names; merged models are written in them.
/// </summary>
public abstract partial class ResNetNames
{
    public static readonly ResNetNames TorchVision = new TorchVisionNames();

    public static readonly ResNetNames HuggingFace = new HuggingFaceNames("");

    public static readonly ResNetNames HuggingFaceClassifier = new HuggingFaceNames("resnet.");

    /// <summary>The stem's convolution and batch norm (module names, without ".weight").</summary>
    public abstract (string Conv, string Norm) Stem { get; }

    /// <summary>Convolution <paramref name="i"/> (0-based) of a block and its batch norm.</summary>
    public abstract (string Conv, string Norm) Layer(int stage, int block, int i);

    /// <summary>A block's projection shortcut: its 1×1 convolution and batch norm.</summary>
    public abstract (string Conv, string Norm) Shortcut(int stage, int block);

    /// <summary>The classifier on the pooled features (weight and bias): a bare ResNetModel's task checkpoints carry ResNetForImageClassification's.</summary>
    public abstract (string Weight, string Bias)? Classifier { get; }

    /// <summary>What the layout puts before the network's names (<c>resnet.</c> for ResNetForImageClassification).</summary>
    public virtual string Prefix => "";

    /// <summary>The residual block (0-based, in forward order, over all stages) a tensor belongs to, given the depths; null for the stem and the classifier.</summary>
    public abstract int? BlockOf(string tensor, IReadOnlyList<int> depths);

    /// <summary>The layout the weights are named in, or null when they are not a ResNet's.</summary>
    public static ResNetNames? Of(ITensorCatalog weights) =>
        weights.Find("conv1.weight") is not null && weights.Find("bn1.running_var") is not null && weights.Find("layer1.0.conv1.weight") is not null ? TorchVision
        : weights.Find("resnet.embedder.embedder.convolution.weight") is not null ? HuggingFaceClassifier
        : weights.Find("embedder.embedder.convolution.weight") is not null ? HuggingFace
        : null;

    /// <summary>Batch-norm tensors: what a layer's running statistics are, and which weight they follow.</summary>
    public static bool IsRunningStatistic(string tensor) =>
        tensor.EndsWith(".running_mean", StringComparison.Ordinal) || tensor.EndsWith(".running_var", StringComparison.Ordinal);

    /// <summary>The block index of stage <paramref name="stage"/>'s block <paramref name="block"/> over all stages.</summary>
    protected static int Flat(int stage, int block, IReadOnlyList<int> depths) =>
        stage < depths.Count && block < depths[stage] ? depths.Take(stage).Sum() + block : -1;

    protected static int Number(Group g) => int.Parse(g.Value, CultureInfo.InvariantCulture);

    private sealed partial class TorchVisionNames : ResNetNames
    {
        public override (string Conv, string Norm) Stem => ("conv1", "bn1");

        public override (string Conv, string Norm) Layer(int stage, int block, int i) => ($"layer{stage + 1}.{block}.conv{i + 1}", $"layer{stage + 1}.{block}.bn{i + 1}");

        public override (string Conv, string Norm) Shortcut(int stage, int block) => ($"layer{stage + 1}.{block}.downsample.0", $"layer{stage + 1}.{block}.downsample.1");

        public override (string Weight, string Bias)? Classifier => ("fc.weight", "fc.bias");

        public override int? BlockOf(string tensor, IReadOnlyList<int> depths) =>
            Block().Match(tensor) is { Success: true } m && Flat(Number(m.Groups[1]) - 1, Number(m.Groups[2]), depths) is var b and >= 0 ? b : null;

        [GeneratedRegex(@"^layer(\d+)\.(\d+)\.")]
        private static partial Regex Block();
    }

    private sealed partial class HuggingFaceNames(string prefix) : ResNetNames
    {
        public override (string Conv, string Norm) Stem => ($"{prefix}embedder.embedder.convolution", $"{prefix}embedder.embedder.normalization");

        public override (string Conv, string Norm) Layer(int stage, int block, int i) =>
            ($"{prefix}encoder.stages.{stage}.layers.{block}.layer.{i}.convolution", $"{prefix}encoder.stages.{stage}.layers.{block}.layer.{i}.normalization");

        public override (string Conv, string Norm) Shortcut(int stage, int block) =>
            ($"{prefix}encoder.stages.{stage}.layers.{block}.shortcut.convolution", $"{prefix}encoder.stages.{stage}.layers.{block}.shortcut.normalization");

        public override (string Weight, string Bias)? Classifier => ("classifier.1.weight", "classifier.1.bias");

        public override string Prefix => prefix;

        public override int? BlockOf(string tensor, IReadOnlyList<int> depths) =>
            tensor.StartsWith(prefix, StringComparison.Ordinal) && Block().Match(tensor[prefix.Length..]) is { Success: true } m
                && Flat(Number(m.Groups[1]), Number(m.Groups[2]), depths) is var b and >= 0 ? b : null;

        [GeneratedRegex(@"^encoder\.stages\.(\d+)\.layers\.(\d+)\.")]
        private static partial Regex Block();
    }
}
