using AdaMerging.Domain.Compute;
using AdaMerging.Domain.Models;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AdaMerging.Domain.Architectures.ResNet;

/// <summary>
/// A ResNet over parameters in its checkpoint's own names (docs/algorithm.md, "ResNet"), in stages: the stem
/// (7×7 convolution, batch norm, ReLU, 3×3 max pool), each residual block, and the global average pool to the
/// features the heads take. Batch norms use their running statistics (evaluation mode, as during AdaMerging); a
/// model made with <see cref="WithBatchStatistics"/> normalises with each batch's own and records them instead, and one
/// made by <see cref="ForTraining"/> normalises with each batch's own, differentiably, as training mode does; one made
/// by <see cref="Observed"/> tells its observer every convolution's input patches (RegMean).
/// </summary>
public sealed class ResNetModel(ResNetConfig config, ResNetNames names, BatchStatistics? recorder = null, bool training = false,
    Action<string, Tensor>? observer = null)
    : IModel, IBatchNormalised
{
    public ResNetConfig Config { get; } = config;

    /// <summary>ε as a Scalar the model keeps alive while it runs (<see cref="RootedScalars"/>).</summary>
    private readonly Scalar _epsilon = config.BatchNormEps.ToScalar();

    public ResNetNames Names { get; } = names;

    public int StageCount => Config.Blocks + 2;

    public IReadOnlyDictionary<string, Tensor> Bind(IReadOnlyDictionary<string, Tensor> nativeParameters) => nativeParameters;

    public Tensor Stage(int stage, IReadOnlyDictionary<string, Tensor> θ, Tensor x)
    {
        if (stage == 0) return Stem(θ, x);
        if (stage == StageCount - 1)
        {
            using var pooled = F.adaptive_avg_pool2d(x, [1, 1]);
            return pooled.flatten(1);
        }
        var (s, b) = Config.Locate(stage - 1);
        return Block(θ, x, s, b);
    }

    /// <summary>The same network normalising with batch statistics, telling <paramref name="statistics"/> each batch norm's (batch-norm recomputation).</summary>
    public IFeatureStages WithBatchStatistics(BatchStatistics statistics) => new ResNetModel(Config, Names, statistics);

    /// <summary>The same network in training mode: batch norms normalise with their batch's statistics, gradients flowing through them (fine-tuning, bench/).</summary>
    public ResNetModel ForTraining() => new(Config, Names, null, training: true);

    /// <summary>
    /// The same network telling <paramref name="linearInputs"/> each convolution's name and input as the linear map it
    /// is: its im2col patches, one row per output position (<see cref="Patches"/>; docs/algorithm.md, "RegMean").
    /// </summary>
    public IModel Observed(Action<string, Tensor> linearInputs) => new ResNetModel(Config, Names, recorder, training, linearInputs);

    public void Dispose() { }

    private Tensor Stem(IReadOnlyDictionary<string, Tensor> θ, Tensor x)
    {
        using var scope = NewDisposeScope();
        var (conv, norm) = Names.Stem;
        var y = F.relu(Norm(θ, norm, Convolve(θ, conv, x, 2, 3)));
        var (pooled, _) = F.max_pool2d_with_indices(y, [3, 3], [2, 2], [1, 1]);
        return pooled.MoveToOuterDisposeScope();
    }

    private Tensor Block(IReadOnlyDictionary<string, Tensor> θ, Tensor x, int stage, int block)
    {
        using var scope = NewDisposeScope();
        long stride = block == 0 ? Config.StrideOf(stage) : 1;
        Tensor Conv(int i, Tensor input, long kernel, long s)
        {
            var (conv, norm) = Names.Layer(stage, block, i);
            return Norm(θ, norm, Convolve(θ, conv, input, s, kernel / 2));
        }
        Tensor y;
        if (Config.IsBottleneck)
        {
            // v1.5 (torchvision, Hugging Face's default): the stride on the 3×3; downsample_in_bottleneck puts it on the first 1×1.
            long first = Config.DownsampleInBottleneck ? stride : 1, middle = Config.DownsampleInBottleneck ? 1 : stride;
            y = F.relu(Conv(0, x, 1, first));
            y = F.relu(Conv(1, y, 3, middle));
            y = Conv(2, y, 1, 1);
        }
        else
        {
            y = F.relu(Conv(0, x, 3, stride));
            y = Conv(1, y, 3, 1);
        }
        Tensor identity = x;
        if (Config.HasShortcut(stage, block))
        {
            var (conv, norm) = Names.Shortcut(stage, block);
            identity = Norm(θ, norm, Convolve(θ, conv, x, stride, 0));
        }
        return F.relu(y.add(identity, RootedScalars.One)).MoveToOuterDisposeScope();
    }

    /// <summary>Convolution <paramref name="conv"/> (its name without ".weight"), its patches told to the observer first when there is one.</summary>
    private Tensor Convolve(IReadOnlyDictionary<string, Tensor> θ, string conv, Tensor x, long stride, long padding)
    {
        var weight = θ[conv + ".weight"];
        if (observer is not null)
            using (var patches = Patches(x, weight, stride, padding))
                observer(conv, patches);
        return Convolution(x, weight, stride, padding);
    }

    /// <summary>
    /// A convolution's input as the linear map's rows: [B · positions, C · kh · kw], each row one output position's
    /// receptive field in the order of weight.reshape(out, −1), so the convolution is rows · Wᵀ.
    /// </summary>
    public static Tensor Patches(Tensor x, Tensor weight, long stride, long padding)
    {
        using var scope = NewDisposeScope();
        var columns = F.unfold(x, (weight.shape[2], weight.shape[3]), padding: (padding, padding), stride: (stride, stride));   // [B, C·kh·kw, L]
        return columns.transpose(1, 2).reshape(-1, columns.shape[1]).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// A convolution without bias. libtorch 2.10's CPU convolution computes a wrong input gradient, different on every
    /// call (NaN at times), when both widths are under 16 and it runs on more than one thread (measured here:
    /// docs/algorithm.md, "ResNet"); such narrow convolutions go through im2col and a matrix product, which autograd
    /// differentiates exactly. Real ResNets (64 wide and more) never take that path.
    /// </summary>
    public static Tensor Convolution(Tensor x, Tensor weight, long stride, long padding)
    {
        if (weight.shape[0] >= NarrowWidth || weight.shape[1] >= NarrowWidth)
            return F.conv2d(x, weight, strides: [stride, stride], padding: [padding, padding]);
        using var scope = NewDisposeScope();
        long kh = weight.shape[2], kw = weight.shape[3];
        long height = (x.shape[2] + 2 * padding - kh) / stride + 1, width = (x.shape[3] + 2 * padding - kw) / stride + 1;
        var columns = F.unfold(x, (kh, kw), padding: (padding, padding), stride: (stride, stride));   // [B, C·kh·kw, L]
        return weight.reshape(weight.shape[0], -1).matmul(columns).reshape(x.shape[0], weight.shape[0], height, width).MoveToOuterDisposeScope();
    }

    /// <summary>Convolutions narrower than this on both sides avoid libtorch's (see <see cref="Convolution"/>).</summary>
    public const long NarrowWidth = 16;

    /// <summary>
    /// Batch norm as a per-channel affine map, y = x · γ/√(σ² + ε) + (β − μ · γ/√(σ² + ε)): differentiable in all four
    /// tensors (the running statistics are merged tensors too, docs/algorithm.md, "Batch normalisation"). A merged
    /// variance below zero (coefficients summing past 1) is read as zero.
    /// </summary>
    private Tensor Norm(IReadOnlyDictionary<string, Tensor> θ, string norm, Tensor x)
    {
        Tensor mean, variance;
        if (training)
        {
            mean = x.mean([0, 2, 3]);
            variance = x.var([0, 2, 3], unbiased: false);
        }
        else if (recorder is null)
        {
            mean = θ[norm + ".running_mean"];
            variance = θ[norm + ".running_var"].clamp_min(RootedScalars.Zero);
        }
        else
        {
            using var _ = no_grad();
            mean = x.mean([0, 2, 3]);
            variance = x.var([0, 2, 3], unbiased: false);
            recorder.Record(norm, mean, variance, x.numel() / x.shape[1]);
        }
        // Explicit Scalars the process keeps alive, not implicit ones (RootedScalars says why).
        var scale = θ[norm + ".weight"].mul(variance.add(_epsilon, RootedScalars.One).rsqrt()).reshape(1, -1, 1, 1);
        var shift = θ[norm + ".bias"].reshape(1, -1, 1, 1).add(mean.reshape(1, -1, 1, 1).mul(scale), RootedScalars.MinusOne);
        return x.mul(scale).add(shift, RootedScalars.One);
    }
}
