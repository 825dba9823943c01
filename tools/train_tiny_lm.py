#!/usr/bin/env python3
"""A small byte-level Llama pre-trained here on general text, then fine-tuned on four distinct offline corpora: the
inputs of the language-model reproduction (bench/reproduce-lm.sh, docs/reproduction.md, "Language models").

Pre-training: the SpamAssassin messages, the English, Spanish, Italian and Dutch word lists and the first names
(bench/fetch-text-data.sh), 128-byte windows. Tasks, each fine-tuned from the same base with every parameter:
  fortunes  the six fortune categories (quotations and jokes, split at their % lines)
  cmudict   the CMU Pronouncing Dictionary's lines (WORD  PH1 ON0 EMES)
  french    the French word list, one word a line
  german    the German word list, one word a line
Each task's lines are split by a seeded shuffle: 90 % to fine-tune on, 5 % as unlabeled adaptation prompts (the first
96 characters of a window: {"prompt"}), 5 % for evaluation (a window's first 64 characters as the prompt and the next
16 as the completion). Three fine-tuning seeds (data order) give three sets of experts over one base.

The model: Llama-family (RMSNorm, rotary embeddings, grouped-query attention, SwiGLU), 4 layers of 128, 4 heads (2
key-value), MLP 344, 258 tokens (the 256 bytes, <s> 256 first in every text, <pad> 257), untied lm_head; written as a
LlamaForCausalLM folder (model.safetensors, config.json, tokenizer.json: byte-level BPE without merges) that the
service reads. The forward is tools/make_llama_fixture.py's.
Usage: /usr/bin/python3 tools/train_tiny_lm.py RAW OUT [--seeds 3] [--pretrain-steps 1000] [--finetune-steps 150]
"""
import argparse
import glob
import json
import math
import os
import random
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from byte_level import BYTE  # noqa: E402
from make_llama_fixture import forward  # noqa: E402
from safetensors_io import save_safetensors  # noqa: E402

BOS, PAD, VOCAB, WINDOW = 256, 257, 258, 128
CONFIG = dict(model_type="llama", architectures=["LlamaForCausalLM"], vocab_size=VOCAB, hidden_size=128, intermediate_size=344,
              num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=2, rms_norm_eps=1e-5, rope_theta=10000.0,
              max_position_embeddings=WINDOW, hidden_act="silu", pad_token_id=PAD, bos_token_id=BOS, eos_token_id=PAD,
              tie_word_embeddings=False, torch_dtype="float32")
TASKS = ["fortunes", "cmudict", "french", "german"]


def lines(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def corpora(raw):
    fortunes = []
    for path in sorted(glob.glob(os.path.join(raw, "fortunes", "*"))):
        with open(path, encoding="utf-8", errors="replace") as f:
            fortunes += [t.strip() for t in f.read().split("\n%\n") if t.strip()]
    tasks = {"fortunes": fortunes, "cmudict": [l for l in lines(os.path.join(raw, "cmudict", "dict.txt")) if not l.startswith(";;;")],
             "french": lines(os.path.join(raw, "dict", "french")), "german": lines(os.path.join(raw, "dict", "german"))}
    general = []
    for path in sorted(glob.glob(os.path.join(raw, "spam", "*", "*.json"))):
        with open(path, encoding="utf-8") as f:
            general.append(json.load(f)["text"])
    for name in ("english", "spanish", "italian", "dutch"):
        general.append("\n".join(lines(os.path.join(raw, "dict", name))))
    for name in ("female", "male"):
        general.append("\n".join(lines(os.path.join(raw, "names", f"{name}.txt"))))
    return general, tasks


def split(items, seed):
    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    n = len(items)
    train, adapt, evaluate = order[:int(0.9 * n)], order[int(0.9 * n):int(0.95 * n)], order[int(0.95 * n):]
    return [items[i] for i in train], [items[i] for i in adapt], [items[i] for i in evaluate]


def stream(texts, separator="\n"):
    return torch.tensor(list(separator.join(texts).encode("utf-8")), dtype=torch.int64)


def batches(data, batch, g):
    starts = torch.randint(0, len(data) - WINDOW, (batch,), generator=g)
    body = torch.stack([data[s:s + WINDOW - 1] for s in starts.tolist()])
    return torch.cat([torch.full((batch, 1), BOS, dtype=torch.int64), body], 1)


def init(g):
    cfg, h, m = CONFIG, CONFIG["hidden_size"], CONFIG["intermediate_size"]
    d, heads, kv = h // cfg["num_attention_heads"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    shapes = {"model.embed_tokens.weight": [VOCAB, h], "model.norm.weight": [h], "lm_head.weight": [VOCAB, h]}
    for layer in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        shapes.update({p + "self_attn.q_proj.weight": [heads * d, h], p + "self_attn.k_proj.weight": [kv * d, h],
                       p + "self_attn.v_proj.weight": [kv * d, h], p + "self_attn.o_proj.weight": [h, heads * d],
                       p + "mlp.gate_proj.weight": [m, h], p + "mlp.up_proj.weight": [m, h], p + "mlp.down_proj.weight": [h, m],
                       p + "input_layernorm.weight": [h], p + "post_attention_layernorm.weight": [h]})
    return {n: (torch.ones(s) if n.endswith("norm.weight") else 0.02 * torch.randn(s, generator=g)).requires_grad_(True) for n, s in shapes.items()}


def train(w, data, steps, lr, seed, label):
    g = torch.Generator().manual_seed(seed)
    optimiser = torch.optim.AdamW(list(w.values()), lr=lr, weight_decay=0.01)
    for step in range(steps):
        for group in optimiser.param_groups:   # linear warm-up over 5 %, cosine decay to a tenth
            warm = min(1.0, (step + 1) / max(1, steps // 20))
            group["lr"] = lr * warm * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / steps)))
        ids = batches(data, 16, g)
        hidden = forward(w, "model.", CONFIG, ids, torch.ones_like(ids), all_positions=True)
        loss = torch.nn.functional.cross_entropy((hidden[:, :-1] @ w["lm_head.weight"].T).reshape(-1, VOCAB), ids[:, 1:].reshape(-1))
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(w.values()), 1.0)
        optimiser.step()
        if step % 100 == 0 or step == steps - 1:
            print(f"{label} step {step}: loss {loss.item():.3f} nats/byte", flush=True)
    return w


def tokenizer_json():
    return {"version": "1.0", "truncation": None, "padding": None,
            "added_tokens": [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}
                             for i, t in ((BOS, "<s>"), (PAD, "<pad>"))],
            "normalizer": None, "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
            "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                               "pair": [], "special_tokens": {"<s>": {"id": "<s>", "ids": [BOS], "tokens": ["<s>"]}}},
            "decoder": {"type": "ByteLevel"},
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None, "end_of_word_suffix": None,
                      "fuse_unk": False, "byte_fallback": False, "vocab": {BYTE[b]: b for b in range(256)}, "merges": []}}


def save(w, folder):
    os.makedirs(folder, exist_ok=True)
    save_safetensors(os.path.join(folder, "model.safetensors"), {n: t.detach().contiguous() for n, t in w.items()})
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=2)
    with open(os.path.join(folder, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer_json(), f, ensure_ascii=False)


def windows(texts, count, length, seed):
    """count windows of length characters, each from a random text (or across texts joined by newlines)."""
    joined, rng = "\n".join(texts), random.Random(seed)
    starts = [rng.randrange(0, len(joined) - length) for _ in range(count)]
    return [joined[s:s + length] for s in starts]


def write_data(folder, adapt, evaluate, seed):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "adaptation.jsonl"), "w", encoding="utf-8") as f:
        for text in windows(adapt, 256, 96, seed):
            f.write(json.dumps({"prompt": text}, ensure_ascii=False) + "\n")
    with open(os.path.join(folder, "evaluation.jsonl"), "w", encoding="utf-8") as f:
        for text in windows(evaluate, 200, 80, seed + 1):
            f.write(json.dumps({"prompt": text[:64], "completion": text[64:]}, ensure_ascii=False) + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("raw")
    parser.add_argument("out")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--pretrain-steps", type=int, default=1000)
    parser.add_argument("--finetune-steps", type=int, default=150)
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count())
    general, tasks = corpora(args.raw)
    base_folder = os.path.join(args.out, "base")
    if not os.path.exists(os.path.join(base_folder, "model.safetensors")):
        w = train(init(torch.Generator().manual_seed(0)), stream(general), args.pretrain_steps, 3e-3, 0, "pretrain")
        save(w, base_folder)
    from safetensors_io import load_safetensors
    base = load_safetensors(os.path.join(base_folder, "model.safetensors"))
    for name, items in tasks.items():
        train_lines, adapt, evaluate = split(items, 7)
        write_data(os.path.join(args.out, "data", name), adapt, evaluate, 11)
        for seed in range(args.seeds):
            folder = os.path.join(args.out, f"seed{seed}", name)
            if os.path.exists(os.path.join(folder, "model.safetensors")):
                continue
            w = {n: t.clone().requires_grad_(True) for n, t in base.items()}
            save(train(w, stream(train_lines), args.finetune_steps, 1e-3, 100 + seed, f"{name} seed {seed}"), folder)


if __name__ == "__main__":
    main()
