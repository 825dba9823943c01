#!/usr/bin/env python3
"""A tiny random CLIP vision encoder and what real PyTorch computes for it, as fixtures for the C# model.

The forward pass below is written independently of the C# code, from docs/algorithm.md, "The model" (Hugging Face CLIPVisionModel
semantics). Outputs go to AdaMerging.Tests/Fixtures/clip_tiny/:
  config.json, model.safetensors (HF layout), open_clip.safetensors (same weights, open_clip layout),
  head.safetensors (normalising zero-shot-style head), io.safetensors (pixels, features, logits).
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

from safetensors_io import save_safetensors

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "AdaMerging.Tests", "Fixtures", "clip_tiny")
CFG = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, image_size=16,
           patch_size=4, num_channels=3, hidden_act="quick_gelu", layer_norm_eps=1e-5, projection_dim=24)


def weights(g):
    d, i, n = CFG["hidden_size"], CFG["intermediate_size"], (CFG["image_size"] // CFG["patch_size"]) ** 2 + 1
    p = "vision_model."
    w = {p + "embeddings.class_embedding": torch.randn(d, generator=g),
         p + "embeddings.patch_embedding.weight": torch.randn(d, 3, CFG["patch_size"], CFG["patch_size"], generator=g) * 0.1,
         p + "embeddings.position_embedding.weight": torch.randn(n, d, generator=g) * 0.1,
         p + "embeddings.position_ids": torch.arange(n).reshape(1, -1),
         p + "pre_layrnorm.weight": 1 + 0.1 * torch.randn(d, generator=g), p + "pre_layrnorm.bias": 0.1 * torch.randn(d, generator=g)}
    for l in range(CFG["num_hidden_layers"]):
        q = f"{p}encoder.layers.{l}."
        for proj in ["q_proj", "k_proj", "v_proj", "out_proj"]:
            w[q + f"self_attn.{proj}.weight"] = torch.randn(d, d, generator=g) / math.sqrt(d)
            w[q + f"self_attn.{proj}.bias"] = 0.1 * torch.randn(d, generator=g)
        for ln in ["layer_norm1", "layer_norm2"]:
            w[q + f"{ln}.weight"] = 1 + 0.1 * torch.randn(d, generator=g)
            w[q + f"{ln}.bias"] = 0.1 * torch.randn(d, generator=g)
        w[q + "mlp.fc1.weight"] = torch.randn(i, d, generator=g) / math.sqrt(d)
        w[q + "mlp.fc1.bias"] = 0.1 * torch.randn(i, generator=g)
        w[q + "mlp.fc2.weight"] = torch.randn(d, i, generator=g) / math.sqrt(i)
        w[q + "mlp.fc2.bias"] = 0.1 * torch.randn(d, generator=g)
    w[p + "post_layernorm.weight"] = 1 + 0.1 * torch.randn(d, generator=g)
    w[p + "post_layernorm.bias"] = 0.1 * torch.randn(d, generator=g)
    w["visual_projection.weight"] = torch.randn(CFG["projection_dim"], d, generator=g) / math.sqrt(d)
    return w


def forward(w, x, observe=None):
    """The vision tower's features; observe(module, input), when given, sees each block's linear layers' inputs."""
    def linear(module, r):
        if observe is not None:
            observe(module, r)
        return F.linear(r, w[module + ".weight"], w[module + ".bias"])

    p, d, heads = "vision_model.", CFG["hidden_size"], CFG["num_attention_heads"]
    hd = d // heads
    b = x.shape[0]
    h = F.conv2d(x, w[p + "embeddings.patch_embedding.weight"], stride=CFG["patch_size"]).flatten(2).transpose(1, 2)
    h = torch.cat([w[p + "embeddings.class_embedding"].expand(b, 1, d), h], dim=1) + w[p + "embeddings.position_embedding.weight"]
    h = F.layer_norm(h, (d,), w[p + "pre_layrnorm.weight"], w[p + "pre_layrnorm.bias"], CFG["layer_norm_eps"])
    for l in range(CFG["num_hidden_layers"]):
        q = f"{p}encoder.layers.{l}."
        r = F.layer_norm(h, (d,), w[q + "layer_norm1.weight"], w[q + "layer_norm1.bias"], CFG["layer_norm_eps"])
        def proj(name):
            return linear(q + f"self_attn.{name}", r).view(b, -1, heads, hd).transpose(1, 2)
        a = torch.softmax((proj("q_proj") * hd ** -0.5) @ proj("k_proj").transpose(-1, -2), dim=-1) @ proj("v_proj")
        h = h + linear(q + "self_attn.out_proj", a.transpose(1, 2).reshape(b, -1, d))
        r = F.layer_norm(h, (d,), w[q + "layer_norm2.weight"], w[q + "layer_norm2.bias"], CFG["layer_norm_eps"])
        r = linear(q + "mlp.fc1", r)
        r = r * torch.sigmoid(1.702 * r)
        h = h + linear(q + "mlp.fc2", r)
    pooled = F.layer_norm(h[:, 0], (d,), w[p + "post_layernorm.weight"], w[p + "post_layernorm.bias"], CFG["layer_norm_eps"])
    return pooled @ w["visual_projection.weight"].T


def open_clip(w):
    p, o = "vision_model.", {}
    o["visual.class_embedding"] = w[p + "embeddings.class_embedding"]
    o["visual.conv1.weight"] = w[p + "embeddings.patch_embedding.weight"]
    o["visual.positional_embedding"] = w[p + "embeddings.position_embedding.weight"]
    o["visual.ln_pre.weight"], o["visual.ln_pre.bias"] = w[p + "pre_layrnorm.weight"], w[p + "pre_layrnorm.bias"]
    for l in range(CFG["num_hidden_layers"]):
        q, r = f"{p}encoder.layers.{l}.", f"visual.transformer.resblocks.{l}."
        o[r + "attn.in_proj_weight"] = torch.cat([w[q + f"self_attn.{n}_proj.weight"] for n in "qkv"])
        o[r + "attn.in_proj_bias"] = torch.cat([w[q + f"self_attn.{n}_proj.bias"] for n in "qkv"])
        o[r + "attn.out_proj.weight"], o[r + "attn.out_proj.bias"] = w[q + "self_attn.out_proj.weight"], w[q + "self_attn.out_proj.bias"]
        o[r + "ln_1.weight"], o[r + "ln_1.bias"] = w[q + "layer_norm1.weight"], w[q + "layer_norm1.bias"]
        o[r + "ln_2.weight"], o[r + "ln_2.bias"] = w[q + "layer_norm2.weight"], w[q + "layer_norm2.bias"]
        o[r + "mlp.c_fc.weight"], o[r + "mlp.c_fc.bias"] = w[q + "mlp.fc1.weight"], w[q + "mlp.fc1.bias"]
        o[r + "mlp.c_proj.weight"], o[r + "mlp.c_proj.bias"] = w[q + "mlp.fc2.weight"], w[q + "mlp.fc2.bias"]
    o["visual.ln_post.weight"], o["visual.ln_post.bias"] = w[p + "post_layernorm.weight"], w[p + "post_layernorm.bias"]
    o["visual.proj"] = w["visual_projection.weight"].T.contiguous()
    return o


def main():
    os.makedirs(OUT, exist_ok=True)
    g = torch.Generator().manual_seed(2024)
    w = weights(g)
    x = torch.randn(6, 3, CFG["image_size"], CFG["image_size"], generator=g)
    head_w, head_b = torch.randn(5, CFG["projection_dim"], generator=g), 0.1 * torch.randn(5, generator=g)
    with torch.no_grad():
        features = forward(w, x)
        logits = F.linear(features / features.norm(dim=-1, keepdim=True), head_w, head_b)
    save_safetensors(os.path.join(OUT, "model.safetensors"), w)
    save_safetensors(os.path.join(OUT, "open_clip.safetensors"), open_clip(w))
    save_safetensors(os.path.join(OUT, "head.safetensors"), {"weight": head_w, "bias": head_b}, {"normalize": "true"})
    save_safetensors(os.path.join(OUT, "io.safetensors"), {"pixel_values": x, "features": features, "logits": logits})
    with open(os.path.join(OUT, "config.json"), "w") as f:
        json.dump({"model_type": "clip_vision_model", **CFG}, f, indent=2)
    print("torch", torch.__version__, "wrote", OUT)


if __name__ == "__main__":
    main()
