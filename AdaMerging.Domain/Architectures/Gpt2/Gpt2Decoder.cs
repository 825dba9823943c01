using AdaMerging.Domain.Text;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AdaMerging.Domain.Architectures.Gpt2;

/// <summary>
/// A GPT-2 decoder over parameters in its checkpoint's own names, in stages: the embeddings (tokens and absolute
/// positions), each pre-LayerNorm block (causal self-attention, then the MLP, each added back), and the final
/// LayerNorm with the last token that is not padding as the features (GPT2ForSequenceClassification's pooling).
/// Its input is a <see cref="TokenBatch"/>; the attention mask rides between stages as one extra channel, as in
/// <see cref="Bert.BertEncoder"/>. Texts are padded on the right, so a token never sees padding; a padding position
/// sees itself too, so a text of no tokens stays finite (docs/algorithm.md, "Text models").
/// </summary>
/// <param name="allPositions">A language model: the last stage gives every position's final states, not the last token's.</param>
public sealed class Gpt2Decoder(Gpt2Config config, Gpt2Names names, Action<string, Tensor>? observer = null, bool allPositions = false) : IModel
{
    public Gpt2Config Config { get; } = config;

    public Gpt2Names Names { get; } = names;

    public int StageCount => Config.NumLayers + 2;

    public IReadOnlyDictionary<string, Tensor> Bind(IReadOnlyDictionary<string, Tensor> nativeParameters) => nativeParameters;

    public IModel Observed(Action<string, Tensor> linearInputs) => new Gpt2Decoder(Config, Names, linearInputs, allPositions);

    public Tensor Stage(int stage, IReadOnlyDictionary<string, Tensor> θ, Tensor x) =>
        DecoderStages.Run(stage, Config.NumLayers, () => Embed(θ, x), layer => Block(θ, x, layer), () => LastToken(θ, x));

    public void Dispose() { }

    /// <summary>Token + position embeddings: [B, L, H], with the mask as channel H.</summary>
    private Tensor Embed(IReadOnlyDictionary<string, Tensor> θ, Tensor tokens)
    {
        var (ids, mask) = TokenBatch.Split(tokens, Config.VocabSize, Config.Positions);
        long b = ids.shape[0], l = ids.shape[1], h = Config.HiddenSize;
        var words = θ[Names.Embedding("wte.weight")].index_select(0, ids.flatten()).view(b, l, h);
        var x = words.add(θ[Names.Embedding("wpe.weight")].narrow(0, 0, l), RootedScalars.One);
        return cat([x, mask.unsqueeze(-1).to_type(x.dtype)], -1);
    }

    /// <summary>x + attention(ln_1(x)), then + MLP(ln_2(·)).</summary>
    private Tensor Block(IReadOnlyDictionary<string, Tensor> θ, Tensor input, int layer)
    {
        long b = input.shape[0], l = input.shape[1], h = Config.HiddenSize, heads = Config.NumHeads;
        var x = input.narrow(-1, 0, h);
        var channel = input.narrow(-1, h, 1);
        var qkv = Conv1D(Norm(x, θ, Names.Layer(layer, "ln_1")), θ, Names.Layer(layer, "attn.c_attn")).split(h, 2);
        Tensor Heads(Tensor t) => t.view(b, l, heads, h / heads).transpose(1, 2);
        var context = F.scaled_dot_product_attention(Heads(qkv[0]), Heads(qkv[1]), Heads(qkv[2]), DecoderStages.Allowed(channel)).transpose(1, 2).reshape(b, l, h);
        var attended = x.add(Conv1D(context, θ, Names.Layer(layer, "attn.c_proj")), RootedScalars.One);
        var inner = TransformerActivations.Apply(Config.Activation, Conv1D(Norm(attended, θ, Names.Layer(layer, "ln_2")), θ, Names.Layer(layer, "mlp.c_fc")));
        var output = attended.add(Conv1D(inner, θ, Names.Layer(layer, "mlp.c_proj")), RootedScalars.One);
        return cat([output, channel.to_type(output.dtype)], -1);
    }

    /// <summary>ln_f of the last token that is not padding: [B, H]; of every position for a language model.</summary>
    private Tensor LastToken(IReadOnlyDictionary<string, Tensor> θ, Tensor input) =>
        DecoderStages.Final(Norm(input.narrow(-1, 0, Config.HiddenSize), θ, Names.FinalNorm), input.narrow(-1, Config.HiddenSize, 1), allPositions);

    /// <summary>Hugging Face's Conv1D: x W + b, W [in, out].</summary>
    private Tensor Conv1D(Tensor x, IReadOnlyDictionary<string, Tensor> θ, string module)
    {
        observer?.Invoke(module, x);
        return x.matmul(θ[module + ".weight"]).add(θ[module + ".bias"], RootedScalars.One);
    }

    private Tensor Norm(Tensor x, IReadOnlyDictionary<string, Tensor> θ, string module) =>
        F.layer_norm(x, [Config.HiddenSize], θ[module + ".weight"], θ[module + ".bias"], Config.LayerNormEps);
}
