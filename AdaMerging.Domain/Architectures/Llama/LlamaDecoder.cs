using AdaMerging.Domain.Compute;
using AdaMerging.Domain.Text;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AdaMerging.Domain.Architectures.Llama;

/// <summary>
/// A Llama-family decoder over parameters in its checkpoint's own names, in stages (docs/algorithm.md, "Decoder
/// language models"): the token embeddings, each pre-RMSNorm block (causal grouped-query self-attention with rotary
/// position embeddings, then the SwiGLU MLP, each added back), and the final RMSNorm with the last token that is not
/// padding as the features (LlamaForSequenceClassification's pooling). Its input is a <see cref="TokenBatch"/>; the
/// attention mask rides between stages as one extra channel, as in <see cref="Gpt2.Gpt2Decoder"/>. Texts are padded on
/// the right, so positions count from 0 at each text's first token, as Hugging Face's do; a padding position sees itself
/// too, so a text of no tokens stays finite.
/// </summary>
/// <param name="allPositions">A language model: the last stage gives every position's final states, not the last token's.</param>
public sealed class LlamaDecoder(LlamaConfig config, LlamaNames names, Action<string, Tensor>? observer = null, bool allPositions = false) : IModel
{
    private readonly double[] _inverseFrequencies = RopeScaling.InverseFrequencies(config.HeadDim, config.RopeTheta, config.Scaling);

    public LlamaConfig Config { get; } = config;

    public LlamaNames Names { get; } = names;

    public int StageCount => Config.NumLayers + 2;

    public IReadOnlyDictionary<string, Tensor> Bind(IReadOnlyDictionary<string, Tensor> nativeParameters) => nativeParameters;

    public IModel Observed(Action<string, Tensor> linearInputs) => new LlamaDecoder(Config, Names, linearInputs, allPositions);

    public Tensor Stage(int stage, IReadOnlyDictionary<string, Tensor> θ, Tensor x) =>
        DecoderStages.Run(stage, Config.NumLayers, () => Embed(θ, x), layer => Block(θ, x, layer), () => LastToken(θ, x));

    public void Dispose() { }

    /// <summary>Token embeddings: [B, L, H], with the mask as channel H.</summary>
    private Tensor Embed(IReadOnlyDictionary<string, Tensor> θ, Tensor tokens)
    {
        var (ids, mask) = TokenBatch.Split(tokens, Config.VocabSize, Config.MaxPositions);
        long b = ids.shape[0], l = ids.shape[1];
        var x = θ[Names.Embedding].index_select(0, ids.flatten()).view(b, l, Config.HiddenSize);
        return cat([x, mask.unsqueeze(-1).to_type(x.dtype)], -1);
    }

    /// <summary>x + attention(input_layernorm(x)), then + MLP(post_attention_layernorm(·)).</summary>
    private Tensor Block(IReadOnlyDictionary<string, Tensor> θ, Tensor input, int layer)
    {
        long b = input.shape[0], l = input.shape[1], h = Config.HiddenSize, d = Config.HeadDim;
        int heads = Config.NumHeads, kv = Config.NumKeyValueHeads;
        var x = input.narrow(-1, 0, h);
        var channel = input.narrow(-1, h, 1);
        var a = Norm(x, θ[Names.Layer(layer, "input_layernorm.weight")]);
        var (cos, sin) = RopeScaling.Rotations(_inverseFrequencies, l, x.dtype, x.device);
        Tensor Heads(Tensor t, int count) => t.view(b, l, count, d).transpose(1, 2);
        Tensor Rotated(Tensor t) => t.mul(cos).add(RotateHalf(t).mul(sin), RootedScalars.One);
        var query = Rotated(Heads(Linear(a, θ, Names.Layer(layer, "self_attn.q_proj")), heads));
        var key = Repeated(Rotated(Heads(Linear(a, θ, Names.Layer(layer, "self_attn.k_proj")), kv)), heads / kv);
        var value = Repeated(Heads(Linear(a, θ, Names.Layer(layer, "self_attn.v_proj")), kv), heads / kv);
        var context = F.scaled_dot_product_attention(query, key, value, DecoderStages.Allowed(channel, Config.SlidingWindow)).transpose(1, 2).reshape(b, l, heads * d);
        var attended = x.add(Linear(context, θ, Names.Layer(layer, "self_attn.o_proj")), RootedScalars.One);
        var m = Norm(attended, θ[Names.Layer(layer, "post_attention_layernorm.weight")]);
        var gated = F.silu(Linear(m, θ, Names.Layer(layer, "mlp.gate_proj"))).mul(Linear(m, θ, Names.Layer(layer, "mlp.up_proj")));
        var output = attended.add(Linear(gated, θ, Names.Layer(layer, "mlp.down_proj")), RootedScalars.One);
        return cat([output, channel.to_type(output.dtype)], -1);
    }

    /// <summary>Each of the K-V heads repeated for the <paramref name="times"/> query heads that read it (head h reads K-V head h / times).</summary>
    private static Tensor Repeated(Tensor t, int times)
    {
        if (times == 1) return t;
        long b = t.shape[0], kv = t.shape[1], l = t.shape[2], d = t.shape[3];
        return t.unsqueeze(2).expand(b, kv, times, l, d).reshape(b, kv * times, l, d);
    }

    /// <summary>Hugging Face's rotate_half: the head's halves (x1, x2) as (−x2, x1).</summary>
    private static Tensor RotateHalf(Tensor t)
    {
        long half = t.shape[^1] / 2;
        return cat([t.narrow(-1, half, half).neg(), t.narrow(-1, 0, half)], -1);
    }

    /// <summary>The final RMSNorm of the last token that is not padding: [B, H]; of every position for a language model.</summary>
    private Tensor LastToken(IReadOnlyDictionary<string, Tensor> θ, Tensor input) =>
        DecoderStages.Final(Norm(input.narrow(-1, 0, Config.HiddenSize), θ[Names.FinalNorm]), input.narrow(-1, Config.HiddenSize, 1), allPositions);

    /// <summary>x Wᵀ (+ b where the checkpoint has one), W [out, in].</summary>
    private Tensor Linear(Tensor x, IReadOnlyDictionary<string, Tensor> θ, string module)
    {
        observer?.Invoke(module, x);
        return F.linear(x, θ[module + ".weight"], θ.TryGetValue(module + ".bias", out var bias) ? bias : null);
    }

    /// <summary>RMSNorm as Hugging Face computes it: in float32 (float64 stays, for the gradient references), then back to the input's dtype, then scaled.</summary>
    private Tensor Norm(Tensor x, Tensor weight)
    {
        var wide = x.dtype == ScalarType.Float64 ? x : x.to_type(ScalarType.Float32);
        var normalised = wide.mul(wide.square().mean([-1], keepdim: true).Plus(Config.RmsNormEps).rsqrt()).to_type(x.dtype);
        return normalised.mul(weight);
    }
}
