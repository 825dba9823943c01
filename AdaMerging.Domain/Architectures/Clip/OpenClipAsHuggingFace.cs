using System.Text.RegularExpressions;
using AdaMerging.Domain.Heads;
using AdaMerging.Domain.Tensors;
using TorchSharp;

namespace AdaMerging.Domain.Architectures.Clip;

/// <summary>
/// An open_clip CLIP seen in Hugging Face names: q, k and v are cut from the fused in_proj (in that order), visual.proj
/// and text_projection ([D, projection]) are transposed into visual_projection.weight and text_projection.weight. The
/// vision tower and, when the checkpoint has one, the text tower and logit_scale are shown; nothing else.
/// </summary>
public sealed partial class OpenClipAsHuggingFace : IModelView
{
    private readonly ITensorSource _source;
    private readonly Dictionary<string, (string Source, Func<torch.Tensor, torch.Tensor> Transform)> _map = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TensorInfo> _infos = new(StringComparer.Ordinal);

    public OpenClipAsHuggingFace(ITensorSource source)
    {
        _source = source;
        foreach (var t in source.Tensors) Add(t);
        Tensors = _infos.Values.ToList();
    }

    public IReadOnlyList<TensorInfo> Tensors { get; }

    /// <summary>Every tensor of open_clip's vision tower starts so.</summary>
    public const string VisualPrefix = "visual.";

    public static bool IsOpenClip(ITensorCatalog catalog) => catalog.Find(VisualPrefix + "conv1.weight") is not null;

    public TensorInfo? Find(string name) => _infos.GetValueOrDefault(name);

    public torch.Tensor Read(string name, torch.ScalarType? convertTo = null)
    {
        if (!_map.TryGetValue(name, out var m)) throw new KeyNotFoundException($"tensor '{name}' is not in the checkpoint");
        using var source = _source.Read(m.Source, convertTo);
        return m.Transform(source).contiguous();
    }

    public void Dispose() => _source.Dispose();

    /// <summary>
    /// The same mapping applied to tensors already in memory (merged weights that carry autograd history): views and
    /// transposes only, so gradients flow back to the open_clip tensors.
    /// </summary>
    public Dictionary<string, torch.Tensor> Map(IReadOnlyDictionary<string, torch.Tensor> native) =>
        _map.Where(m => native.ContainsKey(m.Value.Source))
            .ToDictionary(m => m.Key, m => m.Value.Transform(native[m.Value.Source]), StringComparer.Ordinal);

    IReadOnlyDictionary<string, torch.Tensor> IModelView.Map(IReadOnlyDictionary<string, torch.Tensor> native) => Map(native);

    private void Add(TensorInfo t)
    {
        const string hf = ClipVisionLayout.Prefix;
        switch (t.Name)
        {
            case "visual.class_embedding": Rename(t, hf + "embeddings.class_embedding"); return;
            case "visual.conv1.weight": Rename(t, hf + "embeddings.patch_embedding.weight"); return;
            case "visual.positional_embedding": Rename(t, hf + "embeddings.position_embedding.weight"); return;
            case "visual.ln_pre.weight": Rename(t, hf + "pre_layrnorm.weight"); return;
            case "visual.ln_pre.bias": Rename(t, hf + "pre_layrnorm.bias"); return;
            case "visual.ln_post.weight": Rename(t, hf + "post_layernorm.weight"); return;
            case "visual.ln_post.bias": Rename(t, hf + "post_layernorm.bias"); return;
            case "visual.proj" when t.Shape.Count == 2:
                Map(t, ClipVisionLayout.Projection, [t.Shape[1], t.Shape[0]], x => x.t());
                return;
            case "token_embedding.weight": Rename(t, ClipTextLayout.TokenEmbedding); return;
            case "positional_embedding": Rename(t, ClipTextLayout.PositionEmbedding); return;
            case "ln_final.weight": Rename(t, ClipTextLayout.Prefix + "final_layer_norm.weight"); return;
            case "ln_final.bias": Rename(t, ClipTextLayout.Prefix + "final_layer_norm.bias"); return;
            case "logit_scale": Rename(t, ClipTextLayout.LogitScale); return;
            case "text_projection" when t.Shape.Count == 2:
                Map(t, ClipTextLayout.Projection, [t.Shape[1], t.Shape[0]], x => x.t());
                return;
        }
        var block = Block().Match(t.Name);
        if (!block.Success) return;
        var tower = block.Groups[1].Success ? hf : ClipTextLayout.Prefix;
        var target = $"{tower}encoder.layers.{block.Groups[2].Value}.";
        var rest = block.Groups[3].Value;
        if (rest is "attn.in_proj_weight" or "attn.in_proj_bias" && t.Shape[0] % 3 == 0)
        {
            var part = rest.EndsWith("weight", StringComparison.Ordinal) ? "weight" : "bias";
            long d = t.Shape[0] / 3;
            var names = new[] { "q_proj", "k_proj", "v_proj" };
            for (int k = 0; k < 3; k++)
            {
                long start = k * d;
                Map(t, $"{target}self_attn.{names[k]}.{part}", [d, .. t.Shape.Skip(1)], x => x.narrow(0, start, d));
            }
            return;
        }
        var mapped = rest switch
        {
            "ln_1.weight" => "layer_norm1.weight",
            "ln_1.bias" => "layer_norm1.bias",
            "ln_2.weight" => "layer_norm2.weight",
            "ln_2.bias" => "layer_norm2.bias",
            "attn.out_proj.weight" => "self_attn.out_proj.weight",
            "attn.out_proj.bias" => "self_attn.out_proj.bias",
            "mlp.c_fc.weight" => "mlp.fc1.weight",
            "mlp.c_fc.bias" => "mlp.fc1.bias",
            "mlp.c_proj.weight" => "mlp.fc2.weight",
            "mlp.c_proj.bias" => "mlp.fc2.bias",
            _ => null,
        };
        if (mapped is not null) Rename(t, target + mapped);
    }

    private void Rename(TensorInfo t, string name) => Map(t, name, t.Shape, x => x.alias());

    private void Map(TensorInfo t, string name, IReadOnlyList<long> shape, Func<torch.Tensor, torch.Tensor> transform)
    {
        _map[name] = (t.Name, transform);
        _infos[name] = new TensorInfo(name, t.DType, shape);
    }

    [GeneratedRegex(@"^(visual\.)?transformer\.resblocks\.(\d+)\.(.+)$")]
    private static partial Regex Block();
}
