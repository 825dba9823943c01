#!/usr/bin/env python3
"""The PyTorch reference for AdaRank (Lee et al., "AdaRank: Adaptive Rank Pruning for Enhanced Model Merging", 2025),
written from the authors' code (david3684/AdaRank, vision/src/models/merge_vit/adaptive.py, AdaMergingModule, and
vision/runner.py, adaptive_merge_and_eval): for every open_clip key with 'attn' or 'mlp' and neither 'ln' nor 'bias'
(a block's matrices), each task's update is SVD'd; λ [K, keys] starts at the prior and a mask logit per singular
component at 0.1 (-0.1 past ⌊rank · initial_rank_ratio⌋; soft mask: 2.0 and 0.0); the merge is origin + Σk λ[k, key] ·
(U diag(s_masked) Vᵀ or τ), s_masked = σ(m/T) ⊙ s in the forward with the straight-through (mask > 0.5) value, or
σ(m/T) ⊙ s for the soft mask; one torch.optim.Adam (betas 0.9, 0.999) over λ and the logits; the loss Σk the mean
softmax entropy of task k's logits. TA: origin θ0, τk = θk − θ0; CART: origin the fine-tuned models' mean, τk = θk − mean.

The model is the tiny CLIP of make_clip_fixture.py in open_clip layout (so in_proj is one fused [3d, d] matrix, as the
authors decompose it), 4 heads; two tasks are the base plus 0.05 · N(0, 1) on every tensor, each with a normalising
linear head of 5 classes and 12 random images. Every step takes all 12 images of each task, so any sampling order gives
the same batch. In float64 (the service runs float64 when its vectors are, for checks like this one), so that Adam's
normalised steps of components with tiny gradients are not float32 noise. Variants (T = 10, lr 0.03, 6 steps, so
logits cross 0 mid-run):
  ta_st       task arithmetic, prior 0.3, initial_rank_ratio 1.0, straight-through
  cart_st     CART, prior 2.3, initial_rank_ratio 0.5, straight-through
  ta_sigmoid  task arithmetic, prior 0.3, initial_rank_ratio 0.5, soft mask
  iso_st      Iso-CTS (this service's base, not the authors'): origin θ0; a matrix's components for task k are its own
              Iso-CTS components, then the common subspace's at 1/K of the flat value (make_spectral_fixture.iso_cts_space,
              not re-decomposed); prior 1.0, initial_rank_ratio 0.5, straight-through
Writes AdaMerging.Tests/Fixtures/adarank/: task0.safetensors, task1.safetensors (open_clip layout), head0/1.safetensors,
images.safetensors (images0, images1) and reference.safetensors: per variant the objective per step, the gradient at
the start and the values after 6 steps of λ [K, keys] (lambda.<variant>, gradient_lambda.<variant>; keys in
names.json order) and of each matrix's logits (logits.<variant>.<key>, gradient_logits.<variant>.<key>, [K, rank]).
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import load_safetensors, save_safetensors  # noqa: E402
import make_clip_fixture as clip  # noqa: E402
import make_spectral_fixture as spectral  # noqa: E402

HERE = os.path.dirname(__file__)
SOURCE = os.path.join(HERE, "..", "AdaMerging.Tests", "Fixtures", "clip_tiny", "open_clip.safetensors")
OUT = os.path.join(HERE, "..", "AdaMerging.Tests", "Fixtures", "adarank")
TEMP, LR, STEPS = 10.0, 0.03, 6
VARIANTS = {"ta_st": ("TA", 0.3, 1.0, False), "cart_st": ("CART", 2.3, 0.5, False), "ta_sigmoid": ("TA", 0.3, 0.5, True),
            "iso_st": ("ISO", 1.0, 0.5, False)}


def as_hf(o):
    """open_clip names → the Hugging Face names make_clip_fixture.forward reads (in_proj cut into q, k, v)."""
    p, w = "vision_model.", {}
    w[p + "embeddings.class_embedding"] = o["visual.class_embedding"]
    w[p + "embeddings.patch_embedding.weight"] = o["visual.conv1.weight"]
    w[p + "embeddings.position_embedding.weight"] = o["visual.positional_embedding"]
    w[p + "pre_layrnorm.weight"], w[p + "pre_layrnorm.bias"] = o["visual.ln_pre.weight"], o["visual.ln_pre.bias"]
    for l in range(clip.CFG["num_hidden_layers"]):
        q, r = f"{p}encoder.layers.{l}.", f"visual.transformer.resblocks.{l}."
        for i, n in enumerate("qkv"):
            d = o[r + "attn.in_proj_weight"].shape[1]
            w[q + f"self_attn.{n}_proj.weight"] = o[r + "attn.in_proj_weight"][i * d:(i + 1) * d]
            w[q + f"self_attn.{n}_proj.bias"] = o[r + "attn.in_proj_bias"][i * d:(i + 1) * d]
        w[q + "self_attn.out_proj.weight"], w[q + "self_attn.out_proj.bias"] = o[r + "attn.out_proj.weight"], o[r + "attn.out_proj.bias"]
        w[q + "layer_norm1.weight"], w[q + "layer_norm1.bias"] = o[r + "ln_1.weight"], o[r + "ln_1.bias"]
        w[q + "layer_norm2.weight"], w[q + "layer_norm2.bias"] = o[r + "ln_2.weight"], o[r + "ln_2.bias"]
        w[q + "mlp.fc1.weight"], w[q + "mlp.fc1.bias"] = o[r + "mlp.c_fc.weight"], o[r + "mlp.c_fc.bias"]
        w[q + "mlp.fc2.weight"], w[q + "mlp.fc2.bias"] = o[r + "mlp.c_proj.weight"], o[r + "mlp.c_proj.bias"]
    w[p + "post_layernorm.weight"], w[p + "post_layernorm.bias"] = o["visual.ln_post.weight"], o["visual.ln_post.bias"]
    w["visual_projection.weight"] = o["visual.proj"].T
    return w


def is_masked(key):
    return ("attn" in key or "mlp" in key) and not ("ln" in key or "bias" in key)


def softmax_entropy(x):
    return -(x.softmax(1) * x.log_softmax(1)).sum(1)


def iso_cts_components(taus):
    """Per task: a masked matrix's Iso-CTS components (own, then common at 1/K), another matrix's part multiplied out,
    τk / K for the rest (what Iso-CTS averages)."""
    k = len(taus)
    out = [{} for _ in taus]
    for key in taus[0]:
        if taus[0][key].dim() != 2:
            for i in range(k):
                out[i][key] = taus[i][key] / k
            continue
        u, flat, vh, p, c = spectral.iso_cts_space([t[key] for t in taus])
        for i in range(k):
            cols = list(range(i * p, (i + 1) * p)) + list(range(k * p, k * p + c))
            s = torch.cat([flat[i * p:(i + 1) * p], flat[k * p:k * p + c] / k])
            factors = (u[:, cols], s, vh[cols, :])
            out[i][key] = factors if is_masked(key) else (factors[0] * s) @ factors[2]
    return out


def adarank(origin, taus, heads, images, prior, ratio, soft, components=None):
    keys = list(origin)
    k = len(taus)
    svd = components or [{key: torch.linalg.svd(tv[key], full_matrices=False) if is_masked(key) else tv[key] for key in keys} for tv in taus]
    lam = torch.nn.Parameter(torch.ones(k, len(keys), dtype=torch.float64) * prior)
    masks = {}
    for key in keys:
        if not is_masked(key):
            continue
        dim = svd[0][key][1].shape[0]
        m = (2.0 if soft else 0.1) * torch.ones(k, dim, dtype=torch.float64)
        if ratio < 1.0:
            m[:, int(dim * ratio):] = 0.0 if soft else -0.1
        masks[key] = torch.nn.Parameter(m)
    optimiser = torch.optim.Adam([lam, *masks.values()], lr=LR, betas=(0.9, 0.999), weight_decay=0.0)

    def loss():
        state = {key: value.detach().clone() for key, value in origin.items()}
        for t in range(k):
            for j, key in enumerate(keys):
                if key in masks:
                    u, s, vh = svd[t][key]
                    mask = (masks[key][t] / TEMP).sigmoid()
                    s_masked = mask * s if soft else mask * s + (((mask > 0.5).double() - mask) * s).detach()
                    vector = (u * s_masked) @ vh
                else:
                    vector = svd[t][key]
                state[key] = state[key] + lam[t, j] * vector
        w = as_hf(state)
        total = 0.0
        for t in range(k):
            features = clip.forward(w, images[t])
            logits = F.linear(features / features.norm(dim=-1, keepdim=True), heads[t])
            total = total + softmax_entropy(logits).mean(dim=0)
        return total

    first = loss()
    grads = torch.autograd.grad(first, [lam, *masks.values()])
    gradient = {"lambda": grads[0], **{key: g for key, g in zip(masks, grads[1:])}}
    values = []
    for _ in range(STEPS):
        optimiser.zero_grad()
        value = loss()
        value.backward()
        optimiser.step()
        values.append(value.item())
    return gradient, lam.detach(), {key: m.detach() for key, m in masks.items()}, torch.tensor(values, dtype=torch.float64)


def main():
    os.makedirs(OUT, exist_ok=True)
    clip.CFG["num_attention_heads"] = 4
    g = torch.Generator().manual_seed(77)
    base = load_safetensors(SOURCE)
    tasks = [{n: t + 0.05 * torch.randn(t.shape, generator=g) for n, t in base.items()} for _ in range(2)]
    heads = [torch.randn(5, clip.CFG["projection_dim"], generator=g) for _ in range(2)]
    images = [torch.randn(12, 3, clip.CFG["image_size"], clip.CFG["image_size"], generator=g) for _ in range(2)]
    for i in range(2):
        save_safetensors(os.path.join(OUT, f"task{i}.safetensors"), tasks[i])
        save_safetensors(os.path.join(OUT, f"head{i}.safetensors"), {"weight": heads[i]}, {"normalize": "true"})
    save_safetensors(os.path.join(OUT, "images.safetensors"), {"images0": images[0], "images1": images[1]})
    reference = {}
    base64 = {n: t.double() for n, t in base.items()}
    tasks64 = [{n: t.double() for n, t in task.items()} for task in tasks]
    for variant, (kind, prior, ratio, soft) in VARIANTS.items():
        if kind == "CART":
            mean = {n: sum(t[n] for t in tasks64) / len(tasks64) for n in base}
            origin, taus = mean, [{n: t[n] - mean[n] for n in base} for t in tasks64]
        else:
            origin, taus = base64, [{n: t[n] - base64[n] for n in base} for t in tasks64]
        components = iso_cts_components(taus) if kind == "ISO" else None
        gradient, lam, masks, values = adarank(origin, taus, [h.double() for h in heads], [i.double() for i in images], prior, ratio, soft, components)
        reference[f"objective.{variant}"], reference[f"lambda.{variant}"] = values, lam
        reference[f"gradient_lambda.{variant}"] = gradient["lambda"]
        for key, m in masks.items():
            reference[f"logits.{variant}.{key}"], reference[f"gradient_logits.{variant}.{key}"] = m, gradient[key]
    save_safetensors(os.path.join(OUT, "reference.safetensors"), reference)
    with open(os.path.join(OUT, "names.json"), "w") as f:
        json.dump(list(base), f, indent=1)
    print("torch", torch.__version__, "wrote", OUT)


if __name__ == "__main__":
    main()
