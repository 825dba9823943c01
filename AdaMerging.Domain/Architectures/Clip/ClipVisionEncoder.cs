using AdaMerging.Domain.Compute;
using AdaMerging.Domain.Heads;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Models;
using TorchSharp;
using F = TorchSharp.torch.nn.functional;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Architectures.Clip;

/// <summary>
/// The CLIP vision transformer (Hugging Face layout) as a function of its parameters: features = f(θ, x). Written
/// over a name → tensor dictionary so the same code serves fixed weights and weights that are themselves a function
/// of the merge coefficients (autograd then carries ∂L/∂λ through the merge).
/// </summary>
/// <param name="linearInputs">Told each block's linear layers' inputs as they are applied (RegMean), or null.</param>
public sealed class ClipVisionEncoder(ClipVisionConfig config, Action<string, Tensor>? linearInputs = null) : IFeatureStages
{
    private const string P = ClipVisionLayout.Prefix;

    private readonly ClipTransformer _transformer = new(config.HiddenSize, config.NumAttentionHeads, config.HiddenAct, config.LayerNormEps)
    {
        LinearInputs = linearInputs,
    };

    public ClipVisionConfig Config { get; } = config;

    /// <summary>Features [B, projection or hidden] of images [B, C, image, image].</summary>
    public Tensor Forward(IReadOnlyDictionary<string, Tensor> θ, Tensor pixels) => this.Features(θ, pixels);

    /// <summary>The embedding (stage 0), each transformer block (1 … layers), the pooled head (the last).</summary>
    public int StageCount => Config.NumHiddenLayers + 2;

    public IReadOnlyDictionary<string, Tensor> Bind(IReadOnlyDictionary<string, Tensor> nativeParameters) => nativeParameters;

    public Tensor Stage(int stage, IReadOnlyDictionary<string, Tensor> θ, Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = stage == 0 ? Embed(θ, x)
            : stage <= Config.NumHiddenLayers ? _transformer.Block(x, θ, $"{P}encoder.layers.{stage - 1}.")
            : stage == StageCount - 1 ? Pool(θ, x)
            : throw new ArgumentOutOfRangeException(nameof(stage), stage, $"the encoder has stages 0 to {StageCount - 1}");
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>Patches, class token and positions, then the pre-LayerNorm: [B, tokens, D].</summary>
    private Tensor Embed(IReadOnlyDictionary<string, Tensor> θ, Tensor pixels)
    {
        CheckInput(pixels);
        long b = pixels.shape[0], d = Config.HiddenSize;
        var patches = F.conv2d(pixels, θ[P + "embeddings.patch_embedding.weight"], strides: [Config.PatchSize, Config.PatchSize])
            .flatten(2).transpose(1, 2);                                            // [B, N, D]
        var cls = θ[P + "embeddings.class_embedding"].reshape(1, 1, d).expand(b, 1, d);
        var x = cat([cls, patches], 1).add(θ[P + "embeddings.position_embedding.weight"], RootedScalars.One);
        return _transformer.LayerNorm(x, θ, P + "pre_layrnorm");
    }

    /// <summary>The class token through the post-LayerNorm and the projection, when there is one.</summary>
    private Tensor Pool(IReadOnlyDictionary<string, Tensor> θ, Tensor x)
    {
        var pooled = _transformer.LayerNorm(x.select(1, 0), θ, P + "post_layernorm");
        return θ.TryGetValue(ClipVisionLayout.Projection, out var projection) ? F.linear(pooled, projection) : pooled;
    }

    /// <summary>
    /// Tensor.matmul with mismatched shapes aborts the process in TorchSharp 0.107 (uncatchable), so inputs are
    /// checked here, before any tensor meets another; the weights' shapes were checked against the config on load.
    /// </summary>
    private void CheckInput(Tensor pixels)
    {
        if (pixels.dim() != 4 || pixels.shape[1] != Config.NumChannels || pixels.shape[2] != Config.ImageSize || pixels.shape[3] != Config.ImageSize)
            throw new ArgumentException(
                $"images must be [B, {Config.NumChannels}, {Config.ImageSize}, {Config.ImageSize}], not [{string.Join(", ", pixels.shape)}]", nameof(pixels));
        if (!pixels.is_floating_point()) throw new ArgumentException("images must be floating point", nameof(pixels));
    }
}
