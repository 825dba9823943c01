#!/usr/bin/env python3
"""Tiny random GPT-2 classifiers, a tiny byte-level BPE vocabulary, and what an independent PyTorch reference computes
for them: token ids of edge-case texts (GPT-2's and RoBERTa's conventions), features and logits (Debian python3-torch
and python3-regex; no transformers package).

Written from the architecture (Radford et al. 2019, GPT-2: learned absolute positions, pre-LayerNorm blocks, causal
self-attention, Conv1D layers whose weight is [in, out], the tanh GELU, a final LayerNorm; Hugging Face's
GPT2ForSequenceClassification: `score`, a linear map without bias, on the last token that is not padding) and from
GPT-2's tokenizer (encoder.py: bytes mapped to printable characters, the pre-tokenizing regular expression, merges by
rank), independently of the C# code. Outputs go to AdaMerging.Tests/Fixtures/gpt2_tiny/:
  <variant>/model.safetensors + config.json   gpt2_classifier (transformer.* + score, with the old checkpoints' attn.bias
                                              and attn.masked_bias buffers), gpt2_plain (GPT2Model names)
  <variant>/io.safetensors                    input_ids, attention_mask [4, 12], features, logits (when a classifier)
  vocab.json, merges.txt                      the byte-level BPE vocabulary (GPT-2's specials: <|endoftext|>)
  roberta/vocab.json, roberta/merges.txt      the same merges, RoBERTa's specials first (<s>, <pad>, </s>, <unk>)
  tokens.json                                 texts -> ids: GPT-2's (no specials) and RoBERTa's (<s> ... </s>), cut to max_length
Usage: /usr/bin/python3 tools/make_gpt2_fixture.py [OUT]
"""
import json
import math
import os
import sys

import regex
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import save_safetensors  # noqa: E402
from byte_level import BYTE  # noqa: E402

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "AdaMerging.Tests", "Fixtures", "gpt2_tiny")
# GPT-2's pre-tokenizer (encoder.py): contractions, letters, digits, other symbols, each optionally after one space.
PATTERN = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")
MERGES = [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("Ġ", "m"), ("e", "r"), ("Ġm", "er"), ("g", "e"), ("Ġmer", "ge"),
          ("Ġ", "w"), ("o", "r"), ("Ġw", "or"), ("l", "d"), ("Ġwor", "ld"), ("H", "e"), ("l", "l"), ("He", "ll"),
          ("Hell", "o"), ("Ġ", "Ġ"), ("1", "2"), ("'", "s"), ("i", "n"), ("in", "g"), ("Ã", "©")]
TEXTS = [
    "Hello world",
    "Hello, world! the merge",
    "  two  spaces and trailing   ",
    "it's the model's 123456 merging",
    "Héllo Ünïcode café naïve",
    "中文 emoji 🙂 done",
    "tab\there\nnew line",
    "",
    "merge the model merge the model merge the model merge the model merge the model",
    "x" * 50,
]
MAX_LENGTH = 16
CONFIG = dict(n_embd=32, n_layer=2, n_head=4, n_positions=24, n_ctx=24, layer_norm_epsilon=1e-5,
              activation_function="gelu_new", model_type="gpt2")


# ---- Byte-level BPE (GPT-2's encoder.py) ---------------------------------------------------------------------------


def bpe(word, ranks):
    parts = list(word)
    while len(parts) > 1:
        pairs = [(ranks.get((a, b), math.inf), i) for i, (a, b) in enumerate(zip(parts, parts[1:]))]
        rank, _ = min(pairs)
        if rank == math.inf:
            break
        first, second = [p for p in ranks if ranks[p] == rank][0]
        merged, i = [], 0
        while i < len(parts):
            if i < len(parts) - 1 and parts[i] == first and parts[i + 1] == second:
                merged.append(first + second)
                i += 2
            else:
                merged.append(parts[i])
                i += 1
        parts = merged
    return parts


def encode(text, vocab, ranks):
    ids = []
    for piece in PATTERN.findall(text):
        word = "".join(BYTE[b] for b in piece.encode("utf-8"))
        ids += [vocab[t] for t in bpe(word, ranks)]
    return ids


def vocabulary(specials_first, specials_last):
    tokens = list(specials_first) + [BYTE[b] for b in range(256)]
    tokens += [a + b for a, b in MERGES if a + b not in tokens]
    tokens += list(specials_last)
    return {t: i for i, t in enumerate(tokens)}


# ---- The model ------------------------------------------------------------------------------------------------------

def forward(w, p, cfg, ids, mask):
    h, nh, eps = cfg["n_embd"], cfg["n_head"], cfg["layer_norm_epsilon"]
    b, t = ids.shape
    x = w[p + "wte.weight"][ids] + w[p + "wpe.weight"][torch.arange(t)]
    causal = torch.tril(torch.ones(t, t, dtype=torch.bool))
    allowed = causal[None, None] & mask[:, None, None, :].bool()
    for layer in range(cfg["n_layer"]):
        q = f"{p}h.{layer}."

        def conv1d(name, v):   # Hugging Face's Conv1D: x @ W + b, W [in, out]
            return v @ w[q + name + ".weight"] + w[q + name + ".bias"]

        def heads(v):
            return v.view(b, t, nh, h // nh).transpose(1, 2)

        a = F.layer_norm(x, [h], w[q + "ln_1.weight"], w[q + "ln_1.bias"], eps)
        query, key, value = conv1d("attn.c_attn", a).split(h, dim=2)
        scores = heads(query) @ heads(key).transpose(-1, -2) / math.sqrt(h // nh)
        scores = scores.masked_fill(~allowed, torch.finfo(torch.float32).min)
        context = (torch.softmax(scores, -1) @ heads(value)).transpose(1, 2).reshape(b, t, h)
        x = x + conv1d("attn.c_proj", context)
        m = F.layer_norm(x, [h], w[q + "ln_2.weight"], w[q + "ln_2.bias"], eps)
        x = x + conv1d("mlp.c_proj", F.gelu(conv1d("mlp.c_fc", m), approximate="tanh"))
    x = F.layer_norm(x, [h], w[p + "ln_f.weight"], w[p + "ln_f.bias"], eps)
    last = (torch.arange(t) * mask).argmax(-1)   # the last token that is not padding
    return x[torch.arange(b), last]


def random_weights(p, cfg, vocab_size, g):
    h, layers = cfg["n_embd"], cfg["n_layer"]
    shapes = {p + "wte.weight": [vocab_size, h], p + "wpe.weight": [cfg["n_positions"], h]}
    for layer in range(layers):
        q = f"{p}h.{layer}."
        for norm in ("ln_1", "ln_2"):
            shapes[q + norm + ".weight"], shapes[q + norm + ".bias"] = [h], [h]
        for name, (i, o) in {"attn.c_attn": (h, 3 * h), "attn.c_proj": (h, h), "mlp.c_fc": (h, 4 * h), "mlp.c_proj": (4 * h, h)}.items():
            shapes[q + name + ".weight"], shapes[q + name + ".bias"] = [i, o], [o]
    shapes[p + "ln_f.weight"], shapes[p + "ln_f.bias"] = [h], [h]
    return {n: (1 + 0.1 * torch.randn(s, generator=g)) if n.endswith(("ln_1.weight", "ln_2.weight", "ln_f.weight"))
            else 0.2 * torch.randn(s, generator=g) for n, s in shapes.items()}


def batch(vocab_size, pad, g):
    lengths = [12, 7, 3, 10]
    ids = torch.full((4, 12), pad, dtype=torch.int64)
    mask = torch.zeros((4, 12), dtype=torch.int64)
    for r, n in enumerate(lengths):
        ids[r, :n] = torch.randint(0, vocab_size - 1, (n,), generator=g)
        mask[r, :n] = 1
    return ids, mask


def variant(name, vocab_size, g):
    p = "transformer." if name == "gpt2_classifier" else ""
    cfg = dict(CONFIG, vocab_size=vocab_size, pad_token_id=vocab_size - 1, eos_token_id=vocab_size - 1, bos_token_id=vocab_size - 1)
    w = random_weights(p, cfg, vocab_size, g)
    if name == "gpt2_classifier":
        w["score.weight"] = 0.3 * torch.randn(3, cfg["n_embd"], generator=g)
        cfg["architectures"] = ["GPT2ForSequenceClassification"]
    ids, mask = batch(vocab_size, cfg["pad_token_id"], g)
    with torch.no_grad():
        io = {"input_ids": ids, "attention_mask": mask, "features": forward(w, p, cfg, ids, mask)}
        if name == "gpt2_classifier":
            io["logits"] = F.linear(io["features"], w["score.weight"])
    if name == "gpt2_classifier":   # what checkpoints saved before transformers 4.x carry: the causal mask as buffers
        for layer in range(cfg["n_layer"]):
            n = cfg["n_positions"]
            w[f"{p}h.{layer}.attn.bias"] = torch.tril(torch.ones(n, n)).view(1, 1, n, n)
            w[f"{p}h.{layer}.attn.masked_bias"] = torch.tensor(-1e4)
    os.makedirs(os.path.join(OUT, name), exist_ok=True)
    save_safetensors(os.path.join(OUT, name, "model.safetensors"), w)
    save_safetensors(os.path.join(OUT, name, "io.safetensors"), io)
    with open(os.path.join(OUT, name, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)


def write_vocabulary(folder, vocab):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(os.path.join(folder, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in MERGES))


def main():
    g = torch.Generator().manual_seed(31)
    ranks = {pair: i for i, pair in enumerate(MERGES)}
    gpt2 = vocabulary([], ["<|endoftext|>"])
    roberta = vocabulary(["<s>", "<pad>", "</s>", "<unk>"], ["<mask>"])
    for name in ("gpt2_classifier", "gpt2_plain"):
        variant(name, len(gpt2), g)
    write_vocabulary(OUT, gpt2)
    write_vocabulary(os.path.join(OUT, "roberta"), roberta)
    cases = []
    for text in TEXTS:
        cases.append({"text": text, "gpt2": encode(text, gpt2, ranks)[:MAX_LENGTH],
                      "roberta": [0] + encode(text, roberta, ranks)[:MAX_LENGTH - 2] + [2]})
    with open(os.path.join(OUT, "tokens.json"), "w", encoding="utf-8") as f:
        json.dump({"max_length": MAX_LENGTH, "cases": cases}, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
