#!/usr/bin/env python3
"""A tiny full CLIP (the clip_tiny vision tower plus a random text tower), a tiny CLIP BPE vocabulary learned here, and
what an independent PyTorch reference computes for them: token ids, text embeddings and zero-shot heads.

Written from docs/algorithm.md, "Zero-shot heads" (OpenAI CLIP / open_clip semantics), independently of the C# code.
Outputs go to AdaMerging.Tests/Fixtures/clip_text/:
  model.safetensors + config.json   full CLIP in Hugging Face layout (vision_model.*, text_model.*, projections, logit_scale)
  open_clip.safetensors             the same weights in open_clip layout
  vocab.json, merges.txt            the vocabulary as Hugging Face ships it
  bpe_simple_vocab_16e6.txt.gz      the same vocabulary as open_clip ships it
  reference.json                    texts -> token ids (or "too long"); heads' class names and templates
  reference.safetensors             text embeddings per text, head weights per head
Usage: /usr/bin/python3 tools/make_text_fixture.py [OUT]   (needs Debian's python3-torch and python3-regex)
"""
import gzip
import html
import json
import math
import os
import sys
import unicodedata

import regex
import torch
import torch.nn.functional as F

from safetensors_io import save_safetensors, load_safetensors
from byte_level import BYTE  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "AdaMerging.Tests", "Fixtures")
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(FIXTURES, "clip_text")
# Width 128 with 2 heads: the head count open_clip checkpoints imply (width / 64), so both layouts need no config to run.
TEXT = dict(hidden_size=128, intermediate_size=512, num_hidden_layers=2, num_attention_heads=2, max_position_embeddings=77)
PROJECTION = 24
MERGES = 400
SOT, EOT = "<|startoftext|>", "<|endoftext|>"
PATTERN = regex.compile(r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""", regex.IGNORECASE)


def clean(text):
    """The service's clean-up (docs/algorithm.md): HTML entities twice, NFC, runs of whitespace to one space, lower case."""
    text = unicodedata.normalize("NFC", html.unescape(html.unescape(text))).strip()
    return regex.sub(r"\s+", " ", text).strip().lower()


def word_symbols(token):
    chars = [BYTE[b] for b in token.encode("utf-8")]
    return tuple(chars[:-1]) + (chars[-1] + "</w>",)


def learn_merges(corpus, count):
    """Plain BPE training over the corpus's pre-tokens: repeatedly merge the most frequent adjacent pair."""
    words = {}
    for text in corpus:
        for token in PATTERN.findall(clean(text)):
            words[word_symbols(token)] = words.get(word_symbols(token), 0) + 1
    merges = []
    while len(merges) < count:
        pairs = {}
        for w, f in words.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] = pairs.get((a, b), 0) + f
        if not pairs:
            break
        best = max(sorted(pairs), key=lambda p: pairs[p])
        merges.append(best)
        words = {merge_pair(w, best): f for w, f in words.items()}
    return merges


def merge_pair(word, pair):
    out, i = [], 0
    while i < len(word):
        if i < len(word) - 1 and (word[i], word[i + 1]) == pair:
            out.append(word[i] + word[i + 1])
            i += 2
        else:
            out.append(word[i])
            i += 1
    return tuple(out)


def bpe(token, ranks):
    """OpenAI's CLIP BPE: merge the lowest-ranked adjacent pair everywhere it occurs, until no ranked pair is left."""
    word = word_symbols(token)
    while len(word) > 1:
        pairs = set(zip(word, word[1:]))
        best = min(pairs, key=lambda p: ranks.get(p, math.inf))
        if best not in ranks:
            break
        word = merge_pair(word, best)
    return word


def tokenize(text, encoder, ranks, context):
    ids = [encoder[SOT]]
    for token in PATTERN.findall(clean(text)):
        ids.extend([encoder[token]] if token in (SOT, EOT) else [encoder[s] for s in bpe(token, ranks)])
    ids.append(encoder[EOT])
    return ids if len(ids) <= context else None


def text_weights(g, vocab_size):
    d, i, n, p = TEXT["hidden_size"], TEXT["intermediate_size"], TEXT["max_position_embeddings"], "text_model."
    w = {p + "embeddings.token_embedding.weight": 0.5 * torch.randn(vocab_size, d, generator=g),
         p + "embeddings.position_embedding.weight": 0.1 * torch.randn(n, d, generator=g),
         p + "embeddings.position_ids": torch.arange(n).reshape(1, -1)}
    for l in range(TEXT["num_hidden_layers"]):
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
    w[p + "final_layer_norm.weight"] = 1 + 0.1 * torch.randn(d, generator=g)
    w[p + "final_layer_norm.bias"] = 0.1 * torch.randn(d, generator=g)
    w["text_projection.weight"] = torch.randn(PROJECTION, d, generator=g) / math.sqrt(d)
    w["logit_scale"] = torch.tensor(math.log(1 / 0.07))
    return w


def encode_text(w, ids_list, eot):
    """Embeddings [N, projection] of token id lists, each padded with zeros to the context as open_clip does."""
    d, heads, n, p = TEXT["hidden_size"], TEXT["num_attention_heads"], TEXT["max_position_embeddings"], "text_model."
    hd = d // heads
    ids = torch.zeros(len(ids_list), n, dtype=torch.int64)
    for r, row in enumerate(ids_list):
        ids[r, :len(row)] = torch.tensor(row)
    b = ids.shape[0]
    h = w[p + "embeddings.token_embedding.weight"][ids] + w[p + "embeddings.position_embedding.weight"]
    mask = torch.full((n, n), float("-inf")).triu(1)
    for l in range(TEXT["num_hidden_layers"]):
        q = f"{p}encoder.layers.{l}."
        r = F.layer_norm(h, (d,), w[q + "layer_norm1.weight"], w[q + "layer_norm1.bias"], 1e-5)
        def proj(name):
            return F.linear(r, w[q + f"self_attn.{name}.weight"], w[q + f"self_attn.{name}.bias"]).view(b, -1, heads, hd).transpose(1, 2)
        a = torch.softmax((proj("q_proj") * hd ** -0.5) @ proj("k_proj").transpose(-1, -2) + mask, dim=-1) @ proj("v_proj")
        h = h + F.linear(a.transpose(1, 2).reshape(b, -1, d), w[q + "self_attn.out_proj.weight"], w[q + "self_attn.out_proj.bias"])
        r = F.layer_norm(h, (d,), w[q + "layer_norm2.weight"], w[q + "layer_norm2.bias"], 1e-5)
        r = F.linear(r, w[q + "mlp.fc1.weight"], w[q + "mlp.fc1.bias"])
        h = h + F.linear(r * torch.sigmoid(1.702 * r), w[q + "mlp.fc2.weight"], w[q + "mlp.fc2.bias"])
    h = F.layer_norm(h, (d,), w[p + "final_layer_norm.weight"], w[p + "final_layer_norm.bias"], 1e-5)
    pooled = h[torch.arange(b), (ids == eot).int().argmax(dim=-1)]
    return pooled @ w["text_projection.weight"].T


def zero_shot_head(w, classes, templates, encoder, ranks, eot):
    """The official AdaMerging/task_vectors head: per class, normalise each template's embedding, average, normalise, scale."""
    rows = []
    for c in classes:
        e = encode_text(w, [tokenize(t.replace("{}", c), encoder, ranks, 77) for t in templates], eot)
        e = e / e.norm(dim=-1, keepdim=True)
        e = e.mean(dim=0)
        rows.append(e / e.norm())
    return torch.stack(rows) * w["logit_scale"].exp()


def open_clip_text(w):
    p, o = "text_model.", {}
    o["token_embedding.weight"] = w[p + "embeddings.token_embedding.weight"]
    o["positional_embedding"] = w[p + "embeddings.position_embedding.weight"]
    for l in range(TEXT["num_hidden_layers"]):
        q, r = f"{p}encoder.layers.{l}.", f"transformer.resblocks.{l}."
        o[r + "attn.in_proj_weight"] = torch.cat([w[q + f"self_attn.{n}_proj.weight"] for n in "qkv"])
        o[r + "attn.in_proj_bias"] = torch.cat([w[q + f"self_attn.{n}_proj.bias"] for n in "qkv"])
        o[r + "attn.out_proj.weight"], o[r + "attn.out_proj.bias"] = w[q + "self_attn.out_proj.weight"], w[q + "self_attn.out_proj.bias"]
        o[r + "ln_1.weight"], o[r + "ln_1.bias"] = w[q + "layer_norm1.weight"], w[q + "layer_norm1.bias"]
        o[r + "ln_2.weight"], o[r + "ln_2.bias"] = w[q + "layer_norm2.weight"], w[q + "layer_norm2.bias"]
        o[r + "mlp.c_fc.weight"], o[r + "mlp.c_fc.bias"] = w[q + "mlp.fc1.weight"], w[q + "mlp.fc1.bias"]
        o[r + "mlp.c_proj.weight"], o[r + "mlp.c_proj.bias"] = w[q + "mlp.fc2.weight"], w[q + "mlp.fc2.bias"]
    o["ln_final.weight"], o["ln_final.bias"] = w[p + "final_layer_norm.weight"], w[p + "final_layer_norm.bias"]
    o["text_projection"] = w["text_projection.weight"].T.contiguous()
    o["logit_scale"] = w["logit_scale"]
    return o


CORPUS = ["a photo of a {}.", "a photo of the {}.", "a centered satellite photo of {}.", "a photo of the number: \"{}\".",
          "a zoomed in photo of a \"{}\" traffic sign.", "satellite imagery of {}.", "aerial view of the {}.",
          "cat dog airplane sea lion forest river highway industrial residential pasture annual crop",
          "zero one two three four five six seven eight nine", "stop yield speed limit no entry",
          "banded braided bubbly cracked dotted striped woven", "it's the dog's toy; we'll see, they're here, i've, i'm, i'd"]
TEXTS = [
    "a photo of a cat.",
    "A Photo Of The DOG!!",
    "Hello, World... (really?) #1 @home",
    "it's the dog's ball; we'll see, they're here, I've, I'm, I'd",
    "route 66, 2024-11-29 and 3.14159",
    "  many   spaces\tand\nnew lines  ",
    "café naïve Ünïcödé 東京 🙂 emoji",
    "cafe\u0301 (decomposed) vs café",
    "AT&amp;T &lt;b&gt; &amp;amp;",
    "it’s a “curly” quote",
    "",
    "a " * 75,
    "a " * 76,
]
HEADS = {
    "generic": (["cat", "dog", "sea lion"], ["a photo of a {}."]),
    "gtsrb": (["stop", "speed limit (30km/h)", "no entry"], ['a zoomed in photo of a "{}" traffic sign.',
                                                            'a centered photo of a "{}" traffic sign.',
                                                            'a close up photo of a "{}" traffic sign.']),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    g = torch.Generator().manual_seed(77)
    corpus = [t.replace("{}", w) for t in CORPUS for w in ["cat", "forest", "7", "stop"]] + CORPUS
    merges = learn_merges(corpus, MERGES)
    tokens = list(BYTE.values()) + [c + "</w>" for c in BYTE.values()] + ["".join(m) for m in merges] + [SOT, EOT]
    encoder = {t: i for i, t in enumerate(tokens)}
    ranks = {m: i for i, m in enumerate(merges)}
    with open(os.path.join(OUT, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(encoder, f, ensure_ascii=False)
    lines = "\n".join(f"{a} {b}" for a, b in merges)
    with open(os.path.join(OUT, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + lines + "\n")
    with gzip.GzipFile(os.path.join(OUT, "bpe_simple_vocab_16e6.txt.gz"), "wb", mtime=0) as f:
        f.write(("\"bpe_simple_vocab_16e6.txt#version: 0.2\n" + lines + "\n").encode("utf-8"))

    vision = load_safetensors(os.path.join(FIXTURES, "clip_tiny", "model.safetensors"))
    text = text_weights(g, len(tokens))
    save_safetensors(os.path.join(OUT, "model.safetensors"), {**vision, **text})
    vision_open_clip = load_safetensors(os.path.join(FIXTURES, "clip_tiny", "open_clip.safetensors"))
    save_safetensors(os.path.join(OUT, "open_clip.safetensors"), {**vision_open_clip, **open_clip_text(text)})
    with open(os.path.join(FIXTURES, "clip_tiny", "config.json")) as f:
        vision_config = json.load(f)
    config = {"architectures": ["CLIPModel"], "model_type": "clip", "projection_dim": PROJECTION, "logit_scale_init_value": 2.6592,
              "text_config": {"model_type": "clip_text_model", "vocab_size": len(tokens), "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5,
                              "bos_token_id": encoder[SOT], "eos_token_id": encoder[EOT], "pad_token_id": encoder[EOT], **TEXT},
              "vision_config": vision_config}
    with open(os.path.join(OUT, "config.json"), "w") as f:
        json.dump(config, f, indent=2)

    ids = [tokenize(t, encoder, ranks, TEXT["max_position_embeddings"]) for t in TEXTS]
    fitting = [i for i in ids if i is not None]
    tensors = {}
    with torch.no_grad():
        tensors["text_embeddings"] = encode_text(text, fitting, encoder[EOT])
        for name, (classes, templates) in HEADS.items():
            tensors[f"head.{name}"] = zero_shot_head(text, classes, templates, encoder, ranks, encoder[EOT])
    save_safetensors(os.path.join(OUT, "reference.safetensors"), tensors)
    reference = {"texts": [{"text": t, "ids": i} for t, i in zip(TEXTS, ids)],
                 "heads": {k: {"classes": c, "templates": t} for k, (c, t) in HEADS.items()},
                 "context": TEXT["max_position_embeddings"], "torch": torch.__version__}
    with open(os.path.join(OUT, "reference.json"), "w", encoding="utf-8") as f:
        json.dump(reference, f, ensure_ascii=False, indent=1)
    print("torch", torch.__version__, "vocabulary", len(tokens), "wrote", OUT)


main()
