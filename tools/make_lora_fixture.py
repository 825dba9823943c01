#!/usr/bin/env python3
"""The PyTorch reference for LoRA adapters as merge tasks (Debian's python3-torch), written from PEFT's formulas
(peft/tuners/lora/layer.py, get_delta_weight and merge; peft/utils/save_and_load.py for the saved names):

  Linear      ΔW = scaling · B @ A                                   A [r, in], B [out, r]
  Conv1D      ΔW = scaling · (B @ A)ᵀ  (fan_in_fan_out: the weight is [in, out])
  Embedding   ΔW = scaling · (B @ A)ᵀ                                A [r, rows], B [width, r]
  Conv2d      ΔW = scaling · conv2d(A.permute(1, 0, 2, 3), B).permute(1, 0, 2, 3)   A [r, in, kh, kw], B [out, r, 1, 1]
  scaling     α / r, or α / √r with use_rslora; α per module by alpha_pattern (r by rank_pattern, the factors' shape)
  lora_bias   the module's bias + scaling · lora_B.bias
  modules_to_save and bias "all": full tensors, saved without PEFT's wrappers (base_layer, modules_to_save.default)

It writes, under AdaMerging.Tests/Fixtures/lora, a float32 base (and the same base in bfloat16) and four PEFT adapter
folders (plain; rsLoRA with alpha_pattern, rank_pattern and lora_bias; fan_in_fan_out with bias "all"; modules_to_save),
each adapter's fine-tuned model computed in float64 (dense_<name>.safetensors), and task arithmetic over the four at
λ = 0.3 in float64 (merged_ta.safetensors), and over the bfloat16 base rounded once to bfloat16 (merged_ta_bf16.safetensors:
round to nearest even from the float64 value, not through float32, which would round twice); and two full bfloat16
fine-tunes of the bfloat16 base (full_bf16_k.safetensors) with their task arithmetic rounded once
(merged_ta_full_bf16.safetensors), for AdaMerging.Tests/Domain/Checkpoints/LoraAdaptersTests.cs and
AdaMerging.Tests/Infrastructure/Runs/LoraMergeRunTests.cs.
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import save_safetensors  # noqa: E402

PREFIX = "base_model.model."
LAMBDA = 0.3

BASE = {
    "model.embed_tokens.weight": (20, 8),
    "model.layers.0.self_attn.q_proj.weight": (8, 8),
    "model.layers.0.self_attn.q_proj.bias": (8,),
    "model.layers.0.self_attn.v_proj.weight": (6, 8),
    "model.layers.0.mlp.c_fc.weight": (8, 12),   # GPT-2's Conv1D: [in, out]
    "model.layers.0.mlp.c_fc.bias": (12,),
    "model.layers.0.conv.weight": (4, 3, 3, 3),
    "model.norm.weight": (8,),
    "score.weight": (3, 8),
}


def factors(g, r, shape, kind):
    """A and B for a module of the base's weight shape, as PEFT stores them."""
    if kind == "embedding":
        rows, width = shape
        return torch.randn(r, rows, generator=g, dtype=torch.float64), torch.randn(width, r, generator=g, dtype=torch.float64)
    if kind == "conv1d":
        fan_in, fan_out = shape
        return torch.randn(r, fan_in, generator=g, dtype=torch.float64), torch.randn(fan_out, r, generator=g, dtype=torch.float64)
    if kind == "conv2d":
        out, fan_in, kh, kw = shape
        return torch.randn(r, fan_in, kh, kw, generator=g, dtype=torch.float64), torch.randn(out, r, 1, 1, generator=g, dtype=torch.float64)
    out, fan_in = shape
    return torch.randn(r, fan_in, generator=g, dtype=torch.float64), torch.randn(out, r, generator=g, dtype=torch.float64)


def delta(a, b, kind, scaling):
    if kind in ("embedding", "conv1d"):
        return (b @ a).T * scaling
    if kind == "conv2d":
        return F.conv2d(a.permute(1, 0, 2, 3), b).permute(1, 0, 2, 3) * scaling
    return (b @ a) * scaling


def scaling(config, module, r):
    alpha = next((v for k, v in config.get("alpha_pattern", {}).items() if module == k or module.endswith("." + k)), config["lora_alpha"])
    return alpha / math.sqrt(r) if config.get("use_rslora") else alpha / r


ADAPTERS = {
    "plain": ({"r": 4, "lora_alpha": 8}, {
        "model.layers.0.self_attn.q_proj": ("linear", 4), "model.layers.0.self_attn.v_proj": ("linear", 4),
        "model.embed_tokens": ("embedding", 4), "model.layers.0.conv": ("conv2d", 4)}, []),
    "rslora": ({"r": 2, "lora_alpha": 4, "use_rslora": True, "rank_pattern": {"v_proj": 3}, "alpha_pattern": {"v_proj": 6}, "lora_bias": True}, {
        "model.layers.0.self_attn.q_proj": ("linear", 2), "model.layers.0.self_attn.v_proj": ("linear", 3)}, []),
    "conv1d": ({"r": 3, "lora_alpha": 5, "fan_in_fan_out": True, "bias": "all"}, {"model.layers.0.mlp.c_fc": ("conv1d", 3)},
               ["model.layers.0.mlp.c_fc.base_layer.bias"]),
    "modules_to_save": ({"r": 2, "lora_alpha": 2, "modules_to_save": ["score"]}, {"model.layers.0.self_attn.q_proj": ("linear", 2)},
                        ["score.weight"]),
}


def round_once_to_bf16(x):
    """float64 to the nearest bfloat16, ties to even, in one rounding (normal range): 7 of the 52 mantissa bits kept."""
    bits = x.abs().view(torch.int64)
    kept, rest, half = bits >> 45, bits & ((1 << 45) - 1), 1 << 44
    kept = kept + ((rest > half) | ((rest == half) & (kept & 1 == 1))).to(torch.int64)
    return ((kept << 45).view(torch.float64) * x.sign()).to(torch.float32).to(torch.bfloat16)


def main(out):
    g = torch.Generator().manual_seed(30)
    os.makedirs(out, exist_ok=True)
    base = {n: torch.randn(*s, generator=g, dtype=torch.float64) for n, s in BASE.items()}
    base32 = {n: t.float() for n, t in base.items()}
    save_safetensors(os.path.join(out, "base.safetensors"), base32)
    base16 = {n: t.to(torch.bfloat16) for n, t in base.items()}
    save_safetensors(os.path.join(out, "base_bf16.safetensors"), base16)
    taus32, taus16 = [], []
    for name, (options, modules, full) in ADAPTERS.items():
        config = {"peft_type": "LORA", "task_type": "CAUSAL_LM", "base_model_name_or_path": "fixtures/lora-base", "lora_dropout": 0.0,
                  "bias": "none", "target_modules": sorted({m.split(".")[-1] for m in modules}), **options}
        saved, dense = {}, {n: t.float().double() for n, t in base32.items()}
        dense16 = {n: t.float().double() for n, t in base16.items()}
        for module, (kind, r) in modules.items():
            a, b = factors(g, r, BASE[module + ".weight"], kind)
            a, b = a.float(), b.float()   # adapters are trained and saved in float32
            s = scaling(config, module, r)
            names = ("lora_embedding_A", "lora_embedding_B") if kind == "embedding" else ("lora_A.weight", "lora_B.weight")
            saved[PREFIX + module + "." + names[0]], saved[PREFIX + module + "." + names[1]] = a, b
            d = delta(a.double(), b.double(), kind, s)
            dense[module + ".weight"] += d
            dense16[module + ".weight"] += d
            if options.get("lora_bias") and module + ".bias" in BASE:
                bias = torch.randn(BASE[module + ".bias"], generator=g).float()
                saved[PREFIX + module + ".lora_B.bias"] = bias
                dense[module + ".bias"] += s * bias.double()
                dense16[module + ".bias"] += s * bias.double()
        for stored in full:
            model_name = stored.replace(".base_layer.", ".")
            value = torch.randn(*BASE[model_name], generator=g).float()
            saved[PREFIX + stored] = value
            dense[model_name] = value.double()
            dense16[model_name] = value.double()
        folder = os.path.join(out, name)
        os.makedirs(folder, exist_ok=True)
        save_safetensors(os.path.join(folder, "adapter_model.safetensors"), saved)
        with open(os.path.join(folder, "adapter_config.json"), "w") as f:
            json.dump(config, f, indent=2)
        save_safetensors(os.path.join(out, f"dense_{name}.safetensors"), dense)
        taus32.append({n: dense[n] - base32[n].double() for n in BASE})
        taus16.append({n: dense16[n] - base16[n].float().double() for n in BASE})
    merged = {n: base32[n].double() + LAMBDA * sum(t[n] for t in taus32) for n in BASE}
    save_safetensors(os.path.join(out, "merged_ta.safetensors"), merged)
    merged16 = {n: round_once_to_bf16(base16[n].float().double() + LAMBDA * sum(t[n] for t in taus16)) for n in BASE}
    save_safetensors(os.path.join(out, "merged_ta_bf16.safetensors"), merged16)
    # Two full bfloat16 fine-tunes of the bfloat16 base: task arithmetic from the stored values (the streamed kernel's
    # path), against the float64 result rounded once.
    full = [{n: (t.double() + 0.05 * torch.randn(*t.shape, generator=g, dtype=torch.float64)).to(torch.bfloat16) for n, t in base16.items()} for _ in range(2)]
    for k, task in enumerate(full):
        save_safetensors(os.path.join(out, f"full_bf16_{k}.safetensors"), task)
    merged_full = {n: round_once_to_bf16(base16[n].double() + LAMBDA * sum(t[n].double() - base16[n].double() for t in full)) for n in BASE}
    save_safetensors(os.path.join(out, "merged_ta_full_bf16.safetensors"), merged_full)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "AdaMerging.Tests", "Fixtures", "lora"))
