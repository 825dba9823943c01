using AdaMerging.Domain.Compute;
using AdaMerging.Domain.Heads;
using AdaMerging.Domain.Merging;
using TorchSharp;
using F = TorchSharp.torch.nn.functional;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Architectures.Clip;

/// <summary>The residual attention block both CLIP towers are made of (pre-norm, multi-head attention, MLP), over Hugging Face names.</summary>
public readonly record struct ClipTransformer(int Width, int Heads, string HiddenAct, double LayerNormEps)
{
    /// <summary>quick_gelu's x · σ(1.702 x).</summary>
    private static readonly Scalar QuickGeluScale = 1.702.ToScalar();

    /// <summary>Told each linear layer's name (without ".weight") and input before it is applied (RegMean's Gram matrices).</summary>
    public Action<string, Tensor>? LinearInputs { get; init; }

    /// <summary>One block; <paramref name="causal"/> masks attention to earlier positions, as the text tower does.</summary>
    public Tensor Block(Tensor x, IReadOnlyDictionary<string, Tensor> θ, string p, bool causal = false)
    {
        long b = x.shape[0], t = x.shape[1], hd = Width / Heads;
        var h = LayerNorm(x, θ, p + "layer_norm1");
        var self = this;   // a struct's local function cannot use `this` itself
        Tensor Project(string name) => self.Linear(h, θ, p + $"self_attn.{name}");
        var q = Project("q_proj").view(b, t, Heads, hd).transpose(1, 2);
        var k = Project("k_proj").view(b, t, Heads, hd).transpose(1, 2);
        var v = Project("v_proj").view(b, t, Heads, hd).transpose(1, 2);
        // softmax(q kᵀ / √hd (+ causal mask)) v in one fused kernel (forward and backward), as CLIP's attention with its
        // default scale; shapes are fixed by the config, checked on input.
        var attention = F.scaled_dot_product_attention(q, k, v, is_casual: causal);
        var merged = attention.transpose(1, 2).reshape(b, t, Width);
        // Explicit Scalars the process keeps alive, not the implicit ones of `+` and `1.702 * h` (RootedScalars says why).
        x = x.add(Linear(merged, θ, p + "self_attn.out_proj"), RootedScalars.One);
        h = LayerNorm(x, θ, p + "layer_norm2");
        h = Linear(h, θ, p + "mlp.fc1");
        h = HiddenAct == "gelu" ? F.gelu(h) : h.mul(torch.sigmoid(h.mul(QuickGeluScale)));
        return x.add(Linear(h, θ, p + "mlp.fc2"), RootedScalars.One);
    }

    private Tensor Linear(Tensor x, IReadOnlyDictionary<string, Tensor> θ, string module)
    {
        LinearInputs?.Invoke(module, x);
        return F.linear(x, θ[module + ".weight"], θ[module + ".bias"]);
    }

    public Tensor LayerNorm(Tensor x, IReadOnlyDictionary<string, Tensor> θ, string name) =>
        F.layer_norm(x, [Width], θ[name + ".weight"], θ[name + ".bias"], LayerNormEps);
}
