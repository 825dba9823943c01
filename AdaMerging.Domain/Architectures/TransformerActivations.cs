using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AdaMerging.Domain.Architectures;

/// <summary>The MLP activations Hugging Face's text transformers name (hidden_act, activation_function).</summary>
public static class TransformerActivations
{
    private static readonly Scalar TanhGeluScale = RootedScalars.Of(Math.Sqrt(2 / Math.PI)), Cubic = RootedScalars.Of(0.044715), Half = RootedScalars.Of(0.5);

    /// <summary>Exact (erf) GELU, its tanh approximation (gelu_new, gelu_pytorch_tanh: GPT-2's), or ReLU.</summary>
    public static Tensor Apply(string name, Tensor x) => name switch
    {
        "relu" => F.relu(x),
        "gelu" => F.gelu(x),
        // 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))), with Scalars kept alive (RootedScalars says why).
        _ => x.mul(x.mul(x).mul(x).mul(Cubic).add(x, RootedScalars.One).mul(TanhGeluScale).tanh().add(RootedScalars.One, RootedScalars.One)).mul(Half),
    };
}
