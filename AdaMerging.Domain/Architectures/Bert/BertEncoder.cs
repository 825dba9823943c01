using AdaMerging.Domain.Compute;
using AdaMerging.Domain.Text;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AdaMerging.Domain.Architectures.Bert;

/// <summary>How an encoder's token states become the features its heads take (docs/algorithm.md, "Text models").</summary>
public enum BertPooling
{
    /// <summary>tanh(pooler.dense([CLS])): BertForSequenceClassification's.</summary>
    Pooler,

    /// <summary>The first token's state (&lt;s&gt;): RobertaForSequenceClassification's, whose head does the rest.</summary>
    FirstToken,

    /// <summary>The mean over the attention mask: sentence-transformers' (all-MiniLM-L6-v2), for encoders without a pooler.</summary>
    Mean,
}

/// <summary>
/// A BERT-family encoder over parameters in its checkpoint's own names, in stages: the embeddings (words, absolute
/// positions, token type 0, LayerNorm), each post-LayerNorm transformer layer, and the pooling. Its input is a token
/// batch (<see cref="TokenBatch"/>: ids and attention mask); between stages the mask rides as one extra channel of the
/// hidden states, so each stage is a function of the previous stage's output alone (checkpointing keeps only those).
/// Padding is masked out of attention and pooling: a text's features do not depend on what it is batched with.
/// </summary>
public sealed class BertEncoder(BertConfig config, BertNames names, BertPooling pooling, Action<string, Tensor>? observer = null) : IModel
{
    private readonly Scalar _padding = config.PadTokenId.ToScalar();

    public BertConfig Config { get; } = config;

    public BertNames Names { get; } = names;

    public BertPooling Pooling { get; } = pooling;

    public int StageCount => Config.NumHiddenLayers + 2;

    public IReadOnlyDictionary<string, Tensor> Bind(IReadOnlyDictionary<string, Tensor> nativeParameters) => nativeParameters;

    public IModel Observed(Action<string, Tensor> linearInputs) => new BertEncoder(Config, Names, Pooling, linearInputs);

    public Tensor Stage(int stage, IReadOnlyDictionary<string, Tensor> θ, Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = stage == 0 ? Embed(θ, x)
            : stage <= Config.NumHiddenLayers ? Layer(θ, x, stage - 1)
            : stage == StageCount - 1 ? Pool(θ, x)
            : throw new ArgumentOutOfRangeException(nameof(stage), stage, $"the encoder has stages 0 to {StageCount - 1}");
        return y.MoveToOuterDisposeScope();
    }

    public void Dispose() { }

    /// <summary>Word + position + token-type embeddings, normalised: [B, L, H], with the mask as channel H.</summary>
    private Tensor Embed(IReadOnlyDictionary<string, Tensor> θ, Tensor tokens)
    {
        var (ids, mask) = TokenBatch.Split(tokens, Config.VocabSize, Config.MaxTokens);
        long b = ids.shape[0], l = ids.shape[1], h = Config.HiddenSize;
        // RoBERTa counts positions from padding_idx + 1 over the tokens that are not padding (padding gets padding_idx).
        var positions = Config.IsRoberta ? mask.cumsum(1).mul(mask).add(_padding, RootedScalars.One) : arange(RootedScalars.Of(l), device: ids.device).expand(b, l);
        var words = θ[Names.Embedding("word_embeddings.weight")].index_select(0, ids.flatten()).view(b, l, h);
        var places = θ[Names.Embedding("position_embeddings.weight")].index_select(0, positions.flatten()).view(b, l, h);
        var x = words.add(places, RootedScalars.One).add(θ[Names.Embedding("token_type_embeddings.weight")][0], RootedScalars.One);
        x = Norm(x, θ, Names.Embedding("LayerNorm"));
        return cat([x, mask.unsqueeze(-1).to_type(x.dtype)], -1);
    }

    /// <summary>Self-attention over the unmasked tokens, then the MLP, each added back and normalised (post-LN).</summary>
    private Tensor Layer(IReadOnlyDictionary<string, Tensor> θ, Tensor input, int layer)
    {
        long b = input.shape[0], l = input.shape[1], h = Config.HiddenSize, heads = Config.NumAttentionHeads;
        var x = input.narrow(-1, 0, h);
        var channel = input.narrow(-1, h, 1);
        Tensor Heads(string module) => Linear(x, θ, Names.Layer(layer, module)).view(b, l, heads, h / heads).transpose(1, 2);
        var attend = channel.squeeze(-1).gt(RootedScalars.Zero).view(b, 1, 1, l);
        // softmax(q kᵀ / √d, padding keys excluded) v in one fused kernel; a padding query still attends to the text's
        // tokens (as Hugging Face's additive mask makes it), and its state is never read.
        var context = F.scaled_dot_product_attention(Heads("attention.self.query"), Heads("attention.self.key"), Heads("attention.self.value"), attend)
            .transpose(1, 2).reshape(b, l, h);
        var attended = Norm(Linear(context, θ, Names.Layer(layer, "attention.output.dense")).add(x, RootedScalars.One), θ, Names.Layer(layer, "attention.output.LayerNorm"));
        var inner = TransformerActivations.Apply(Config.HiddenAct, Linear(attended, θ, Names.Layer(layer, "intermediate.dense")));
        var output = Norm(Linear(inner, θ, Names.Layer(layer, "output.dense")).add(attended, RootedScalars.One), θ, Names.Layer(layer, "output.LayerNorm"));
        return cat([output, channel.to_type(output.dtype)], -1);
    }

    /// <summary>The features the heads take: [B, H].</summary>
    private Tensor Pool(IReadOnlyDictionary<string, Tensor> θ, Tensor input)
    {
        long h = Config.HiddenSize;
        var x = input.narrow(-1, 0, h);
        switch (Pooling)
        {
            case BertPooling.Pooler:
                return F.linear(x.select(1, 0), θ[Names.Pooler + ".weight"], θ[Names.Pooler + ".bias"]).tanh();
            case BertPooling.FirstToken:
                return x.select(1, 0);
            default:
                var mask = input.narrow(-1, h, 1);
                return x.mul(mask).sum(1).div(mask.sum(1).clamp_min(TokenBatch.MinimumCount));
        }
    }

    private Tensor Linear(Tensor x, IReadOnlyDictionary<string, Tensor> θ, string module)
    {
        observer?.Invoke(module, x);
        return F.linear(x, θ[module + ".weight"], θ[module + ".bias"]);
    }

    private Tensor Norm(Tensor x, IReadOnlyDictionary<string, Tensor> θ, string module) =>
        F.layer_norm(x, [Config.HiddenSize], θ[module + ".weight"], θ[module + ".bias"], Config.LayerNormEps);
}
