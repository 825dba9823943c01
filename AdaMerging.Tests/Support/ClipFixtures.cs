using AdaMerging.Domain.Architectures.Clip;
using AdaMerging.Domain.Checkpoints;
using TorchSharp;

namespace AdaMerging.Tests.Support;

/// <summary>Random CLIP vision encoders in Hugging Face layout, and the same weights in open_clip layout.</summary>
public static class ClipFixtures
{
    public static readonly ClipVisionConfig Tiny = new(HiddenSize: 16, IntermediateSize: 32, NumHiddenLayers: 2, NumAttentionHeads: 2,
        ImageSize: 8, PatchSize: 4, NumChannels: 3, ProjectionDim: 12);

    public static Dictionary<string, torch.Tensor> HuggingFace(ClipVisionConfig config, int seed = 1, bool withProjection = true)
    {
        var g = new torch.Generator((ulong)seed);
        var tensors = ClipVisionLayout.ExpectedShapes(config, withProjection)
            .ToDictionary(e => e.Name, e => torch.randn(e.Shape, generator: g).Times(0.1));
        tensors[ClipVisionLayout.Prefix + "embeddings.position_ids"] = torch.arange(RootedScalars.Of(config.Positions), torch.ScalarType.Int64).reshape(1, -1);
        return tensors;
    }

    /// <summary>The open_clip names of <paramref name="hf"/>: q, k, v stacked into in_proj, the projection transposed.</summary>
    public static Dictionary<string, torch.Tensor> OpenClip(Dictionary<string, torch.Tensor> hf, ClipVisionConfig config)
    {
        const string p = ClipVisionLayout.Prefix;
        var o = new Dictionary<string, torch.Tensor>
        {
            ["visual.class_embedding"] = hf[p + "embeddings.class_embedding"],
            ["visual.conv1.weight"] = hf[p + "embeddings.patch_embedding.weight"],
            ["visual.positional_embedding"] = hf[p + "embeddings.position_embedding.weight"],
            ["visual.ln_pre.weight"] = hf[p + "pre_layrnorm.weight"],
            ["visual.ln_pre.bias"] = hf[p + "pre_layrnorm.bias"],
        };
        for (int l = 0; l < config.NumHiddenLayers; l++)
        {
            string h = $"{p}encoder.layers.{l}.", r = $"visual.transformer.resblocks.{l}.";
            o[r + "ln_1.weight"] = hf[h + "layer_norm1.weight"];
            o[r + "ln_1.bias"] = hf[h + "layer_norm1.bias"];
            o[r + "attn.in_proj_weight"] = torch.cat([hf[h + "self_attn.q_proj.weight"], hf[h + "self_attn.k_proj.weight"], hf[h + "self_attn.v_proj.weight"]]);
            o[r + "attn.in_proj_bias"] = torch.cat([hf[h + "self_attn.q_proj.bias"], hf[h + "self_attn.k_proj.bias"], hf[h + "self_attn.v_proj.bias"]]);
            o[r + "attn.out_proj.weight"] = hf[h + "self_attn.out_proj.weight"];
            o[r + "attn.out_proj.bias"] = hf[h + "self_attn.out_proj.bias"];
            o[r + "ln_2.weight"] = hf[h + "layer_norm2.weight"];
            o[r + "ln_2.bias"] = hf[h + "layer_norm2.bias"];
            o[r + "mlp.c_fc.weight"] = hf[h + "mlp.fc1.weight"];
            o[r + "mlp.c_fc.bias"] = hf[h + "mlp.fc1.bias"];
            o[r + "mlp.c_proj.weight"] = hf[h + "mlp.fc2.weight"];
            o[r + "mlp.c_proj.bias"] = hf[h + "mlp.fc2.bias"];
        }
        o["visual.ln_post.weight"] = hf[p + "post_layernorm.weight"];
        o["visual.ln_post.bias"] = hf[p + "post_layernorm.bias"];
        o["visual.proj"] = hf[ClipVisionLayout.Projection].t().contiguous();
        o["logit_scale"] = torch.tensor(4.6f); // CLIP's own scalar: shown under the same name
        return o;
    }

    public static string ConfigJson(ClipVisionConfig c) => $$"""
        {"model_type": "clip_vision_model", "hidden_size": {{c.HiddenSize}}, "intermediate_size": {{c.IntermediateSize}},
         "num_hidden_layers": {{c.NumHiddenLayers}}, "num_attention_heads": {{c.NumAttentionHeads}}, "image_size": {{c.ImageSize}},
         "patch_size": {{c.PatchSize}}, "num_channels": {{c.NumChannels}}, "hidden_act": "{{c.HiddenAct}}", "projection_dim": {{c.ProjectionDim}}}
        """;
}
