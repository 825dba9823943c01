using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Heads;
using AdaMerging.Domain.Tensors;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AdaMerging.Domain.Models;

/// <summary>
/// A task's frozen classifier: logits = W · f (+ b), with f L2-normalised first when the head says so; a head with a
/// hidden layer (RoBERTa's classification head) takes f through tanh(H · f + c) first.
/// </summary>
public sealed class ClassificationHead : ITaskHead
{
    public ClassificationHead(Tensor weight, Tensor? bias, bool normalizeFeatures, (Tensor Weight, Tensor Bias)? hidden = null)
    {
        if (weight.dim() != 2 || (bias is not null && (bias.dim() != 1 || bias.shape[0] != weight.shape[0])))
            throw new ArgumentException("a head is weight [C, D] and optional bias [C]");
        if (hidden is var (hw, hb) && (hw.dim() != 2 || hw.shape[0] != weight.shape[1] || hb.dim() != 1 || hb.shape[0] != hw.shape[0]))
            throw new ArgumentException("a head's hidden layer is weight [D, F] and bias [D]");
        Weight = weight;
        Bias = bias;
        NormalizeFeatures = normalizeFeatures;
        Hidden = hidden;
    }

    /// <summary>The hidden layer (dense, then tanh) before the classifier, when the head has one.</summary>
    public (Tensor Weight, Tensor Bias)? Hidden { get; }

    public Tensor Weight { get; }

    public Tensor? Bias { get; }

    public bool NormalizeFeatures { get; }

    public long Classes => Weight.shape[0];

    public long FeatureSize => Hidden is var (hw, _) ? hw.shape[1] : Weight.shape[1];

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
        if (Hidden is var (hw, hb))
        {
            using var hidden = F.linear(f, hw, hb);
            return F.linear(hidden.tanh(), Weight, Bias);
        }
        return F.linear(f, Weight, Bias);
    }

    /// <summary>log_softmax of the logits, in the features' dtype for images and the head's own for a text model's (<see cref="ModelInput.HeadType"/>).</summary>
    public Tensor LogProbabilities(IReadOnlyDictionary<string, Tensor> parameters, Tensor output, Tensor input) =>
        Logits(output.to_type(ModelInput.HeadType(input, this))).log_softmax(-1);

    public void Dispose()
    {
        Weight.Dispose();
        Bias?.Dispose();
        if (Hidden is var (hw, hb))
        {
            hw.Dispose();
            hb.Dispose();
        }
    }
}
