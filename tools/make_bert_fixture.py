#!/usr/bin/env python3
"""Tiny random BERT-family encoders, a tiny WordPiece vocabulary, and what an independent PyTorch reference computes
for them: token ids of edge-case texts, pooled features and logits (Debian python3-torch; no transformers package).

Written from the architectures (Devlin et al. 2019, BERT: post-LayerNorm encoder, absolute positions, token types,
tanh pooler on [CLS]; Liu et al. 2019, RoBERTa: positions counted from padding_idx + 1 over non-padding tokens, one
token type, the two-layer classification head on <s>; sentence-transformers: mean pooling over the attention mask)
and Hugging Face's tokenizer algorithm (BasicTokenizer then greedy longest-match-first WordPiece), independently of the
C# code. Outputs go to AdaMerging.Tests/Fixtures/bert_tiny/:
  <variant>/model.safetensors + config.json   bert_classifier (bert.* + classifier), bert_plain (BertModel names,
                                              no pooler: mean pooling), roberta_classifier (roberta.* + classifier.dense/out_proj)
  <variant>/io.safetensors                    input_ids, attention_mask [4, 12], features, logits (when a classifier)
  vocab.txt, tokenizer_config.json            the vocabulary (uncased, accents stripped)
  tokens.json                                 texts -> ids with [CLS]/[SEP], truncated to max_length as Hugging Face does
Usage: /usr/bin/python3 tools/make_bert_fixture.py [OUT]
"""
import json
import math
import os
import sys
import unicodedata

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import save_safetensors  # noqa: E402

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "AdaMerging.Tests", "Fixtures", "bert_tiny")
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = ["hello", "world", "the", "un", "##aff", "##able", "cafe", "uni", "##code", "don", "naive", "##ing",
         "run", "merge", "model", "中", "文", "é"]
LETTERS = [chr(c) for c in range(ord("a"), ord("z") + 1)]
VOCAB = SPECIAL + list("!,.'?-()") + LETTERS + ["##" + c for c in LETTERS] + WORDS
TEXTS = [
    "Hello, world!",
    "Héllo Ünïcode CAFÉ naïve",
    "unaffable runnings",
    "don't!! merge?? (model)",
    "x" * 120,
    "中文 hello",
    "tab\there\nnew line   spaces",
    "emoji 🙂 and ctrl\u0007char",
    "",
    "Cafe\u0301 d\u00e9j\u00e0-vu\u00a0ok \U0001d518nicode",
    "merge the model merge the model merge the model merge the model merge the model",
]
MAX_LENGTH = 16
CONFIG = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64, hidden_act="gelu")


# ---- WordPiece (Hugging Face's BertTokenizer: BasicTokenizer, then WordpieceTokenizer) -------------------------------

def is_whitespace(c):
    return c in " \t\n\r" or unicodedata.category(c) == "Zs"


def is_control(c):
    return c not in "\t\n\r" and unicodedata.category(c).startswith("C")


def is_punctuation(c):
    cp = ord(c)
    return 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126 or unicodedata.category(c).startswith("P")


def is_cjk(cp):
    return any(a <= cp <= b for a, b in [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
                                         (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)])


def basic_tokens(text, lower=True, strip_accents=True):
    text = unicodedata.normalize("NFC", text)
    text = "".join(" " if is_whitespace(c) else c for c in text if ord(c) not in (0, 0xFFFD) and not is_control(c))
    text = "".join(f" {c} " if is_cjk(ord(c)) else c for c in text)
    out = []
    for token in text.split():
        if lower:
            token = token.lower()
        if strip_accents:
            token = "".join(c for c in unicodedata.normalize("NFD", token) if unicodedata.category(c) != "Mn")
        word = ""
        for c in token:
            if is_punctuation(c):
                if word:
                    out.append(word)
                out.append(c)
                word = ""
            else:
                word += c
        if word:
            out.append(word)
    return out


def wordpiece(token, vocab, max_chars=100):
    if len(token) > max_chars:
        return ["[UNK]"]
    pieces, start = [], 0
    while start < len(token):
        end, found = len(token), None
        while start < end:
            piece = ("##" if start > 0 else "") + token[start:end]
            if piece in vocab:
                found = piece
                break
            end -= 1
        if found is None:
            return ["[UNK]"]
        pieces.append(found)
        start = end
    return pieces


def encode(text, vocab, max_length):
    ids = [vocab[p] for t in basic_tokens(text) for p in wordpiece(t, vocab)]
    ids = ids[:max_length - 2]   # truncation="longest_first" of one sequence: the first max_length - 2 tokens
    return [vocab["[CLS]"]] + ids + [vocab["[SEP]"]]


# ---- The encoders ------------------------------------------------------------------------------------------------

def gelu(x, act):
    return F.gelu(x, approximate="tanh") if act in ("gelu_new", "gelu_pytorch_tanh") else F.gelu(x)


def encoder(w, p, cfg, ids, mask, roberta):
    h, nh = cfg["hidden_size"], cfg["num_attention_heads"]
    eps = cfg["layer_norm_eps"]
    if roberta:
        positions = torch.cumsum(mask, 1) * mask + cfg["pad_token_id"]
    else:
        positions = torch.arange(ids.shape[1]).expand_as(ids)
    x = w[p + "embeddings.word_embeddings.weight"][ids] + w[p + "embeddings.position_embeddings.weight"][positions] \
        + w[p + "embeddings.token_type_embeddings.weight"][torch.zeros_like(ids)]
    x = F.layer_norm(x, [h], w[p + "embeddings.LayerNorm.weight"], w[p + "embeddings.LayerNorm.bias"], eps)
    additive = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
    b, t = ids.shape
    for layer in range(cfg["num_hidden_layers"]):
        q = f"{p}encoder.layer.{layer}."

        def lin(name, v):
            return F.linear(v, w[q + name + ".weight"], w[q + name + ".bias"])

        def heads(v):
            return v.view(b, t, nh, h // nh).transpose(1, 2)

        scores = heads(lin("attention.self.query", x)) @ heads(lin("attention.self.key", x)).transpose(-1, -2) / math.sqrt(h // nh)
        context = (torch.softmax(scores + additive, -1) @ heads(lin("attention.self.value", x))).transpose(1, 2).reshape(b, t, h)
        a = F.layer_norm(lin("attention.output.dense", context) + x, [h], w[q + "attention.output.LayerNorm.weight"], w[q + "attention.output.LayerNorm.bias"], eps)
        i = gelu(lin("intermediate.dense", a), cfg["hidden_act"])
        x = F.layer_norm(lin("output.dense", i) + a, [h], w[q + "output.LayerNorm.weight"], w[q + "output.LayerNorm.bias"], eps)
    return x


def random_weights(p, cfg, vocab_size, positions, types, pooler, g):
    h, m = cfg["hidden_size"], cfg["intermediate_size"]
    shapes = {p + "embeddings.word_embeddings.weight": [vocab_size, h], p + "embeddings.position_embeddings.weight": [positions, h],
              p + "embeddings.token_type_embeddings.weight": [types, h], p + "embeddings.LayerNorm.weight": [h], p + "embeddings.LayerNorm.bias": [h]}
    for layer in range(cfg["num_hidden_layers"]):
        q = f"{p}encoder.layer.{layer}."
        for name in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"):
            shapes[q + name + ".weight"], shapes[q + name + ".bias"] = [h, h], [h]
        shapes[q + "intermediate.dense.weight"], shapes[q + "intermediate.dense.bias"] = [m, h], [m]
        shapes[q + "output.dense.weight"], shapes[q + "output.dense.bias"] = [h, m], [h]
        for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
            shapes[q + norm + ".weight"], shapes[q + norm + ".bias"] = [h], [h]
    if pooler:
        shapes[p + "pooler.dense.weight"], shapes[p + "pooler.dense.bias"] = [h, h], [h]
    w = {}
    for name, shape in shapes.items():
        if "LayerNorm.weight" in name:
            w[name] = 1 + 0.1 * torch.randn(shape, generator=g)
        else:
            w[name] = 0.2 * torch.randn(shape, generator=g)
    return w


def batch(vocab_size, pad, g):
    lengths = [12, 7, 3, 10]
    ids = torch.full((4, 12), pad, dtype=torch.int64)
    mask = torch.zeros((4, 12), dtype=torch.int64)
    for r, n in enumerate(lengths):
        ids[r, :n] = torch.randint(5, vocab_size, (n,), generator=g)
        mask[r, :n] = 1
    return ids, mask


def variant(name, g):
    vocab_size = len(VOCAB)
    roberta = name.startswith("roberta")
    cfg = dict(CONFIG, vocab_size=vocab_size, layer_norm_eps=1e-5 if roberta else 1e-12, pad_token_id=1 if roberta else 0,
               max_position_embeddings=20 + (2 if roberta else 0), type_vocab_size=1 if roberta else 2,
               model_type="roberta" if roberta else "bert")
    p = {"bert_classifier": "bert.", "bert_plain": "", "roberta_classifier": "roberta."}[name]
    pooler = name == "bert_classifier"
    w = random_weights(p, cfg, vocab_size, cfg["max_position_embeddings"], cfg["type_vocab_size"], pooler, g)
    h = cfg["hidden_size"]
    if name == "bert_classifier":
        w["classifier.weight"], w["classifier.bias"] = 0.3 * torch.randn(3, h, generator=g), 0.1 * torch.randn(3, generator=g)
        cfg["architectures"] = ["BertForSequenceClassification"]
    if name == "roberta_classifier":
        w["classifier.dense.weight"], w["classifier.dense.bias"] = 0.3 * torch.randn(h, h, generator=g), 0.1 * torch.randn(h, generator=g)
        w["classifier.out_proj.weight"], w["classifier.out_proj.bias"] = 0.3 * torch.randn(3, h, generator=g), 0.1 * torch.randn(3, generator=g)
        cfg["architectures"] = ["RobertaForSequenceClassification"]
    ids, mask = batch(vocab_size, cfg["pad_token_id"], g)
    with torch.no_grad():
        x = encoder(w, p, cfg, ids, mask, roberta)
        io = {"input_ids": ids, "attention_mask": mask}
        if name == "bert_classifier":
            io["features"] = torch.tanh(F.linear(x[:, 0], w[p + "pooler.dense.weight"], w[p + "pooler.dense.bias"]))
            io["logits"] = F.linear(io["features"], w["classifier.weight"], w["classifier.bias"])
        elif name == "bert_plain":
            m = mask[:, :, None].float()
            io["features"] = (x * m).sum(1) / m.sum(1).clamp(min=1e-9)
        else:
            io["features"] = x[:, 0]
            hidden = torch.tanh(F.linear(io["features"], w["classifier.dense.weight"], w["classifier.dense.bias"]))
            io["logits"] = F.linear(hidden, w["classifier.out_proj.weight"], w["classifier.out_proj.bias"])
    os.makedirs(os.path.join(OUT, name), exist_ok=True)
    save_safetensors(os.path.join(OUT, name, "model.safetensors"), w)
    save_safetensors(os.path.join(OUT, name, "io.safetensors"), io)
    with open(os.path.join(OUT, name, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)


def main():
    g = torch.Generator().manual_seed(29)
    os.makedirs(OUT, exist_ok=True)
    for name in ("bert_classifier", "bert_plain", "roberta_classifier"):
        variant(name, g)
    vocab = {t: i for i, t in enumerate(VOCAB)}
    with open(os.path.join(OUT, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(VOCAB) + "\n")
    with open(os.path.join(OUT, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": True, "strip_accents": None, "tokenize_chinese_chars": True, "model_max_length": 512,
                   "tokenizer_class": "BertTokenizer"}, f, indent=2)
    with open(os.path.join(OUT, "tokens.json"), "w", encoding="utf-8") as f:
        json.dump({"max_length": MAX_LENGTH, "cases": [{"text": t, "ids": encode(t, vocab, MAX_LENGTH)} for t in TEXTS]}, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
