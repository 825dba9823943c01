#!/usr/bin/env python3
"""Tiny random decoders of the Llama family and what an independent PyTorch reference computes for them (Debian
python3-torch; no transformers package): the final hidden state of the last token that is not padding, and for a
classifier its score.

Written from the architecture (Touvron et al. 2023, Llama: pre-RMSNorm blocks, rotary position embeddings on the
queries and keys, SwiGLU MLP; Ainslie et al. 2023, grouped-query attention; Meta's Llama 3.1 rotary frequency scaling;
Hugging Face's names and conventions: rotate_half on the two halves of each head, RMSNorm in float32, the score of
LlamaForSequenceClassification on the last token that is not padding), independently of the C# code. Outputs go to
AdaMerging.Tests/Fixtures/llama_tiny/<variant>/ (model.safetensors, config.json, io.safetensors: input_ids and
attention_mask [4, 12], features, logits for a classifier, features_bf16 from the weights in bfloat16):
  llama_classifier  LlamaForSequenceClassification: grouped-query attention (4 heads, 2 key-value heads), untied
  llama3_causal_lm  LlamaForCausalLM: Llama 3.1's rope_scaling (type llama3; with heads of 12 and θ 10⁴, one frequency
                    each kept, blended and slowed), head_dim given, attention and MLP biases
  qwen2_tied        Qwen2: biases on q, k and v only, rope_theta 1e6, tied embeddings (no lm_head)
  mistral_plain     a bare MistralModel (no "model." prefix): a sliding window of 5 tokens, linear rope scaling
and a tokenizer.json beside two of them, with the ids an independent encoder gives edge-case texts (tokens.json):
  llama3_causal_lm  Llama 3's: its Split pattern (case-insensitive contractions, digits in threes) before byte-level
                    BPE, <|begin_of_text|> prepended by its TemplateProcessing
  qwen2_tied        Qwen2's: NFC normalisation, digits one at a time, no special tokens added
Usage: /usr/bin/python3 tools/make_llama_fixture.py [OUT]
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import save_safetensors  # noqa: E402
from byte_level import BYTE  # noqa: E402
from make_gpt2_fixture import MERGES, TEXTS, bpe  # noqa: E402
import regex  # noqa: E402
import unicodedata  # noqa: E402

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "AdaMerging.Tests", "Fixtures", "llama_tiny")
VOCAB = 288   # the tokenizer fixture's ids (256 bytes, the merges, two specials) fit
BASE = dict(vocab_size=VOCAB, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, rms_norm_eps=1e-6, rope_theta=10000.0, max_position_embeddings=64, hidden_act="silu",
            pad_token_id=VOCAB - 1, bos_token_id=0, eos_token_id=1, tie_word_embeddings=False)
VARIANTS = {
    "llama_classifier": dict(BASE, model_type="llama", architectures=["LlamaForSequenceClassification"]),
    "llama3_causal_lm": dict(BASE, model_type="llama", architectures=["LlamaForCausalLM"], head_dim=12, attention_bias=True, mlp_bias=True,
                             rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0,
                                                               original_max_position_embeddings=32)),
    "qwen2_tied": dict(BASE, model_type="qwen2", architectures=["Qwen2ForCausalLM"], rope_theta=1000000.0, tie_word_embeddings=True,
                       num_key_value_heads=1),
    "mistral_plain": dict(BASE, model_type="mistral", architectures=["MistralModel"], sliding_window=5,
                          rope_scaling=dict(type="linear", factor=2.0)),
}
PREFIX = {"llama_classifier": "model.", "llama3_causal_lm": "model.", "qwen2_tied": "model.", "mistral_plain": ""}


def head_dim(cfg):
    return cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]


def inverse_frequencies(cfg):
    d = head_dim(cfg)
    inv = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, d, 2, dtype=torch.int64).float() / d))
    scaling = cfg.get("rope_scaling") or {}
    kind = scaling.get("rope_type", scaling.get("type"))
    if kind == "linear":
        return inv / scaling["factor"]
    if kind == "llama3":   # Llama 3.1: long wavelengths slowed by the factor, short ones kept, the band between blended
        factor, low, high = scaling["factor"], scaling["low_freq_factor"], scaling["high_freq_factor"]
        old = scaling["original_max_position_embeddings"]
        wavelength = 2 * math.pi / inv
        scaled = torch.where(wavelength > old / low, inv / factor, inv)
        smooth = (old / wavelength - low) / (high - low)
        blended = (1 - smooth) * scaled / factor + smooth * scaled
        medium = (wavelength >= old / high) & (wavelength <= old / low)
        return torch.where(medium, blended, scaled)
    return inv


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], -1)


def rms_norm(x, weight, eps):
    x32 = x if x.dtype == torch.float64 else x.float()   # in float32 at least (float64 stays: the gradient references)
    return weight * (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + eps)).to(x.dtype)


def linear(w, name, x):
    y = x @ w[name + ".weight"].T
    return y + w[name + ".bias"] if name + ".bias" in w else y


def forward(w, p, cfg, ids, mask, all_positions=False):
    heads, kv, d, eps = cfg["num_attention_heads"], cfg["num_key_value_heads"], head_dim(cfg), cfg["rms_norm_eps"]
    b, t = ids.shape
    x = w[p + "embed_tokens.weight"][ids]
    freqs = torch.arange(t).float()[:, None] * inverse_frequencies(cfg)[None]
    emb = torch.cat([freqs, freqs], -1)
    cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)   # Hugging Face's rotary tables: float32, cast to the states' dtype
    i, j = torch.arange(t)[:, None], torch.arange(t)[None]
    allowed = (j <= i)
    if cfg.get("sliding_window"):
        allowed = allowed & (i - j < cfg["sliding_window"])
    allowed = allowed[None, None] & mask[:, None, None, :].bool()
    for layer in range(cfg["num_hidden_layers"]):
        q_ = f"{p}layers.{layer}."
        a = rms_norm(x, w[q_ + "input_layernorm.weight"], eps)
        query = linear(w, q_ + "self_attn.q_proj", a).view(b, t, heads, d).transpose(1, 2)
        key = linear(w, q_ + "self_attn.k_proj", a).view(b, t, kv, d).transpose(1, 2)
        value = linear(w, q_ + "self_attn.v_proj", a).view(b, t, kv, d).transpose(1, 2)
        query, key = query * cos + rotate_half(query) * sin, key * cos + rotate_half(key) * sin
        key = key.repeat_interleave(heads // kv, dim=1)      # query head h reads key-value head h // (heads / kv)
        value = value.repeat_interleave(heads // kv, dim=1)
        scores = (query @ key.transpose(-1, -2)) / math.sqrt(d)
        scores = scores.masked_fill(~allowed, torch.finfo(scores.dtype).min)
        probabilities = torch.softmax(scores.float() if scores.dtype == torch.bfloat16 else scores, -1).to(value.dtype)   # eager attention's softmax in float32
        context = (probabilities @ value).transpose(1, 2).reshape(b, t, heads * d)
        x = x + linear(w, q_ + "self_attn.o_proj", context)
        m = rms_norm(x, w[q_ + "post_attention_layernorm.weight"], eps)
        x = x + linear(w, q_ + "mlp.down_proj", F.silu(linear(w, q_ + "mlp.gate_proj", m)) * linear(w, q_ + "mlp.up_proj", m))
    x = rms_norm(x, w[p + "norm.weight"], eps)
    if all_positions:   # a causal LM's final states, every position
        return x
    last = (torch.arange(t) * mask).argmax(-1)   # the last token that is not padding
    return x[torch.arange(b), last]


def random_weights(name, p, cfg, g):
    h, m, d = cfg["hidden_size"], cfg["intermediate_size"], head_dim(cfg)
    heads, kv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    qwen = cfg["model_type"] == "qwen2"
    shapes = {p + "embed_tokens.weight": [cfg["vocab_size"], h]}
    for layer in range(cfg["num_hidden_layers"]):
        q_ = f"{p}layers.{layer}."
        for proj, (o, i) in {"q_proj": (heads * d, h), "k_proj": (kv * d, h), "v_proj": (kv * d, h), "o_proj": (h, heads * d)}.items():
            shapes[q_ + "self_attn." + proj + ".weight"] = [o, i]
            if cfg.get("attention_bias") or (qwen and proj != "o_proj"):
                shapes[q_ + "self_attn." + proj + ".bias"] = [o]
        for proj, (o, i) in {"gate_proj": (m, h), "up_proj": (m, h), "down_proj": (h, m)}.items():
            shapes[q_ + "mlp." + proj + ".weight"] = [o, i]
            if cfg.get("mlp_bias"):
                shapes[q_ + "mlp." + proj + ".bias"] = [o]
        shapes[q_ + "input_layernorm.weight"] = shapes[q_ + "post_attention_layernorm.weight"] = [h]
    shapes[p + "norm.weight"] = [h]
    w = {n: (1 + 0.1 * torch.randn(s, generator=g)) if n.endswith("norm.weight") else 0.2 * torch.randn(s, generator=g)
         for n, s in shapes.items()}
    if name == "llama_classifier":
        w["score.weight"] = 0.3 * torch.randn(3, h, generator=g)
    elif p and not cfg["tie_word_embeddings"]:
        w["lm_head.weight"] = 0.2 * torch.randn(cfg["vocab_size"], h, generator=g)
    return w


def batch(pad, g):
    lengths = [12, 7, 3, 10]
    ids = torch.full((4, 12), pad, dtype=torch.int64)
    mask = torch.zeros((4, 12), dtype=torch.int64)
    for r, n in enumerate(lengths):
        ids[r, :n] = torch.randint(0, VOCAB - 1, (n,), generator=g)
        mask[r, :n] = 1
    return ids, mask


LLAMA3_PATTERN = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
QWEN2_PATTERN = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
MAX_LENGTH = 16


def tokenizer_json(variant, vocab):
    """tokenizer.json as Hugging Face's tokenizers library writes Llama 3's and Qwen2's."""
    split = {"type": "Split", "pattern": {"Regex": LLAMA3_PATTERN if variant == "llama3_causal_lm" else QWEN2_PATTERN},
             "behavior": "Isolated", "invert": False}
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}
    specials = ["<|begin_of_text|>", "<|end_of_text|>"] if variant == "llama3_causal_lm" else ["<|endoftext|>", "<|im_start|>"]
    added = [{"id": len(vocab) + i, "content": t, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}
             for i, t in enumerate(specials)]
    post = ({"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": specials[0], "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
             "pair": [], "special_tokens": {specials[0]: {"id": specials[0], "ids": [len(vocab)], "tokens": [specials[0]]}}}
            if variant == "llama3_causal_lm" else {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False})
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
            "normalizer": {"type": "NFC"} if variant == "qwen2_tied" else None,
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": [split, byte_level]},
            "post_processor": post, "decoder": {"type": "ByteLevel"},
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None, "end_of_word_suffix": None,
                      "fuse_unk": False, "byte_fallback": False, "ignore_merges": False, "vocab": vocab,
                      "merges": [[a, b] if variant == "qwen2_tied" else f"{a} {b}" for a, b in MERGES]}}


def encode(variant, text, vocab, ranks):
    pattern = regex.compile(LLAMA3_PATTERN if variant == "llama3_causal_lm" else QWEN2_PATTERN)
    if variant == "qwen2_tied":
        text = unicodedata.normalize("NFC", text)
    ids = []
    for piece in pattern.findall(text):
        ids += [vocab[t] for t in bpe("".join(BYTE[b] for b in piece.encode("utf-8")), ranks)]
    if variant == "llama3_causal_lm":   # <|begin_of_text|> first; truncation keeps room for it
        return [len(vocab)] + ids[:MAX_LENGTH - 1]
    return ids[:MAX_LENGTH]


def write_tokenizers():
    tokens = [BYTE[b] for b in range(256)]
    tokens += [a + b for a, b in MERGES if a + b not in tokens]
    vocab = {t: i for i, t in enumerate(tokens)}
    ranks = {pair: i for i, pair in enumerate(MERGES)}
    texts = TEXTS + ["It'S 1234567 THE'LL don't", "Cafe\u0301 e\u0301te\u0301 (decomposed)", "lines\r\n\n  end"]
    for variant in ("llama3_causal_lm", "qwen2_tied"):
        with open(os.path.join(OUT, variant, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(tokenizer_json(variant, vocab), f, ensure_ascii=False, indent=1)
        cases = [{"text": t, "ids": encode(variant, t, vocab, ranks)} for t in texts]
        with open(os.path.join(OUT, variant, "tokens.json"), "w", encoding="utf-8") as f:
            json.dump({"max_length": MAX_LENGTH, "cases": cases}, f, ensure_ascii=False, indent=1)


def main():
    g = torch.Generator().manual_seed(41)
    for name, cfg in VARIANTS.items():
        p = PREFIX[name]
        w = random_weights(name, p, cfg, g)
        ids, mask = batch(cfg["pad_token_id"], g)
        with torch.no_grad():
            io = {"input_ids": ids, "attention_mask": mask, "features": forward(w, p, cfg, ids, mask)}
            if "score.weight" in w:
                io["logits"] = F.linear(io["features"], w["score.weight"])
            # The same forward with every weight in bfloat16 (Hugging Face's bf16 path: RMSNorm and softmax in float32).
            io["features_bf16"] = forward({n: t.bfloat16() for n, t in w.items()}, p, cfg, ids, mask).float()
        os.makedirs(os.path.join(OUT, name), exist_ok=True)
        save_safetensors(os.path.join(OUT, name, "model.safetensors"), w)
        save_safetensors(os.path.join(OUT, name, "io.safetensors"), io)
        with open(os.path.join(OUT, name, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
    write_tokenizers()


if __name__ == "__main__":
    main()
