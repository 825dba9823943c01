using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Heads;
using AdaMerging.Domain.Tensors;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AdaMerging.Domain.Models;

/// <summary>A task's frozen classifier: logits = W · f (+ b), with f L2-normalised first when the head says so.</summary>
public sealed class ClassificationHead : IDisposable
{
    public ClassificationHead(Tensor weight, Tensor? bias, bool normalizeFeatures)
    {
        if (weight.dim() != 2 || (bias is not null && (bias.dim() != 1 || bias.shape[0] != weight.shape[0])))
            throw new ArgumentException("a head is weight [C, D] and optional bias [C]");
        Weight = weight;
        Bias = bias;
        NormalizeFeatures = normalizeFeatures;
    }

    public Tensor Weight { get; }

    public Tensor? Bias { get; }

    public bool NormalizeFeatures { get; }

    public long Classes => Weight.shape[0];

    public long FeatureSize => Weight.shape[1];

    public static ClassificationHead Load(string path, ScalarType dtype, Device device)
    {
        var info = HeadInfo.Inspect(path, new UploadLimits());
        using var file = SafetensorsFile.Open(path);
        return new ClassificationHead(file.Read("weight", dtype).to(device), info.HasBias ? file.Read("bias", dtype).to(device) : null,
            info.NormalizeFeatures);
    }

    public Tensor Logits(Tensor features)
    {
        if (features.dim() != 2 || features.shape[1] != FeatureSize)
            throw new ArgumentException($"the head takes [B, {FeatureSize}] features, not [{string.Join(", ", features.shape)}]", nameof(features));
        var f = NormalizeFeatures ? F.normalize(features, p: 2, dim: -1) : features;
        return F.linear(f, Weight, Bias);
    }

    public void Dispose()
    {
        Weight.Dispose();
        Bias?.Dispose();
    }
}
