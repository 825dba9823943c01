#!/usr/bin/env python3
"""Tiny random ResNets and what real PyTorch computes for them, as fixtures for the C# model (Debian python3-torch).

The forward below is written from the architecture (torchvision's ResNet v1.5: BasicBlock and Bottleneck, stride on the
3×3 convolution; Hugging Face's ResNetModel names the same tensors otherwise), independently of the C# code.
Outputs go to AdaMerging.Tests/Fixtures/resnet_tiny/<variant>/ for variant in basic, bottleneck:
  torchvision.safetensors   torchvision names, with `fc` (3 classes) and int64 num_batches_tracked
  hugging_face.safetensors  the same weights in ResNetForImageClassification's names (`classifier.1`)
  config.json               Hugging Face's ResNetConfig for them
  io.safetensors            pixel_values [4, 3, 20, 20], features (pooled), logits
and, for basic only, the batch-norm statistics recomputed after a merge (docs/algorithm.md, "Batch normalisation"):
  recompute.safetensors     merged (task arithmetic, λ = 0.3, running statistics merged too), task0 / task1
                            adaptation images, and every layer's recomputed running_mean / running_var
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import save_safetensors  # noqa: E402

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "AdaMerging.Tests", "Fixtures", "resnet_tiny")
EPS = 1e-5
VARIANTS = {
    "basic": dict(layer_type="basic", embedding_size=8, hidden_sizes=[8, 16], depths=[1, 2]),
    "bottleneck": dict(layer_type="bottleneck", embedding_size=8, hidden_sizes=[16, 32], depths=[1, 2]),
}


def conv_names(cfg):
    """Every (conv, bn, shape) of the network in torchvision names, in forward order."""
    out = [("conv1", "bn1", [cfg["embedding_size"], 3, 7, 7])]
    cin = cfg["embedding_size"]
    for s, (cout, depth) in enumerate(zip(cfg["hidden_sizes"], cfg["depths"])):
        for b in range(depth):
            p = f"layer{s + 1}.{b}"
            stride = 2 if s > 0 and b == 0 else 1
            if cfg["layer_type"] == "basic":
                convs = [[cout, cin, 3, 3], [cout, cout, 3, 3]]
            else:
                w = cout // 4
                convs = [[w, cin, 1, 1], [w, w, 3, 3], [cout, w, 1, 1]]
            for i, shape in enumerate(convs):
                out.append((f"{p}.conv{i + 1}", f"{p}.bn{i + 1}", shape))
            if cin != cout or stride != 1:
                out.append((f"{p}.downsample.0", f"{p}.downsample.1", [cout, cin, 1, 1]))
            cin = cout
    return out


def random_weights(cfg, g, classes=3):
    w = {}
    for conv, bn, shape in conv_names(cfg):
        fan_in = shape[1] * shape[2] * shape[3]
        w[conv + ".weight"] = torch.randn(shape, generator=g) * (2.0 / fan_in) ** 0.5
        c = shape[0]
        w[bn + ".weight"] = 1 + 0.1 * torch.randn(c, generator=g)
        w[bn + ".bias"] = 0.1 * torch.randn(c, generator=g)
        w[bn + ".running_mean"] = 0.1 * torch.randn(c, generator=g)
        w[bn + ".running_var"] = 0.5 + torch.rand(c, generator=g)
        w[bn + ".num_batches_tracked"] = torch.tensor(100, dtype=torch.int64)
    d = cfg["hidden_sizes"][-1]
    w["fc.weight"] = torch.randn(classes, d, generator=g) * d ** -0.5
    w["fc.bias"] = 0.1 * torch.randn(classes, generator=g)
    return w


def batch_norm(x, w, p, stats=None):
    """Evaluation mode (running statistics); with `stats`, training mode: batch statistics, recorded per layer."""
    if stats is None:
        return F.batch_norm(x, w[p + ".running_mean"], w[p + ".running_var"], w[p + ".weight"], w[p + ".bias"], False, 0.0, EPS)
    mean = x.mean(dim=(0, 2, 3))
    var = x.var(dim=(0, 2, 3), unbiased=True)
    stats.setdefault(p, []).append((mean, var))
    return F.batch_norm(x, None, None, w[p + ".weight"], w[p + ".bias"], True, 0.0, EPS)


def conv(x, w, name, observe=None, stride=1, padding=0):
    """A convolution without bias; `observe` is told its input as the linear map's rows (im2col patches, RegMean)."""
    weight = w[name + ".weight"]
    if observe is not None:
        columns = F.unfold(x, weight.shape[2:], padding=padding, stride=stride)
        observe(name, columns.transpose(1, 2).reshape(-1, columns.shape[1]))
    return F.conv2d(x, weight, stride=stride, padding=padding)


def forward(cfg, w, x, stats=None, observe=None):
    x = F.relu(batch_norm(conv(x, w, "conv1", observe, 2, 3), w, "bn1", stats))
    x = F.max_pool2d(x, 3, 2, 1)
    for s, depth in enumerate(cfg["depths"]):
        for b in range(depth):
            p = f"layer{s + 1}.{b}"
            stride = 2 if s > 0 and b == 0 else 1
            identity = x
            if cfg["layer_type"] == "basic":
                out = F.relu(batch_norm(conv(x, w, p + ".conv1", observe, stride, 1), w, p + ".bn1", stats))
                out = batch_norm(conv(out, w, p + ".conv2", observe, 1, 1), w, p + ".bn2", stats)
            else:
                out = F.relu(batch_norm(conv(x, w, p + ".conv1", observe), w, p + ".bn1", stats))
                out = F.relu(batch_norm(conv(out, w, p + ".conv2", observe, stride, 1), w, p + ".bn2", stats))
                out = batch_norm(conv(out, w, p + ".conv3", observe), w, p + ".bn3", stats)
            if p + ".downsample.0.weight" in w:
                identity = batch_norm(conv(x, w, p + ".downsample.0", observe, stride), w, p + ".downsample.1", stats)
            x = F.relu(out + identity)
    return F.adaptive_avg_pool2d(x, 1).flatten(1)


def hugging_face_name(name):
    """torchvision → ResNetForImageClassification (docs/algorithm.md, "ResNet")."""
    parts = name.split(".")
    if parts[0] == "fc":
        return "classifier.1." + parts[1]
    if parts[0] in ("conv1", "bn1"):
        return "resnet.embedder.embedder." + ("convolution" if parts[0] == "conv1" else "normalization") + "." + parts[1]
    stage, block = int(parts[0][5:]) - 1, parts[1]
    head = f"resnet.encoder.stages.{stage}.layers.{block}."
    if parts[2] == "downsample":
        return head + "shortcut." + ("convolution" if parts[3] == "0" else "normalization") + "." + parts[4]
    i = int(parts[2][-1]) - 1
    return head + f"layer.{i}." + ("convolution" if parts[2].startswith("conv") else "normalization") + "." + parts[3]


def hf_config(cfg, classes=3):
    return {"model_type": "resnet", "architectures": ["ResNetForImageClassification"], "num_channels": 3,
            "embedding_size": cfg["embedding_size"], "hidden_sizes": cfg["hidden_sizes"], "depths": cfg["depths"],
            "layer_type": cfg["layer_type"], "hidden_act": "relu", "downsample_in_first_stage": False,
            "downsample_in_bottleneck": False, "id2label": {str(i): f"class{i}" for i in range(classes)}}


def recompute(cfg, w, tasks, batch):
    """PyTorch's update_bn (momentum None: the plain average of each batch's mean and unbiased variance), over batches
    that take batch // K consecutive images from each task in turn; a last batch of one image is dropped."""
    share = max(1, batch // len(tasks))
    stats = {}
    j = 0
    while True:
        parts = [t[j * share:(j + 1) * share] for t in tasks if t.shape[0] > j * share]
        if not parts:
            break
        x = torch.cat(parts)
        j += 1
        if x.shape[0] < 2:
            continue
        forward(cfg, w, x, stats)
    return {p: (torch.stack([m for m, _ in v]).mean(0), torch.stack([s for _, s in v]).mean(0)) for p, v in stats.items()}


def main():
    for variant, cfg in VARIANTS.items():
        g = torch.Generator().manual_seed(20 + len(variant))
        w = random_weights(cfg, g)
        pixels = torch.randn(4, 3, 20, 20, generator=g)
        with torch.no_grad():
            features = forward(cfg, w, pixels)
            logits = F.linear(features, w["fc.weight"], w["fc.bias"])
        out = os.path.join(OUT, variant)
        os.makedirs(out, exist_ok=True)
        save_safetensors(os.path.join(out, "torchvision.safetensors"), w)
        save_safetensors(os.path.join(out, "hugging_face.safetensors"), {hugging_face_name(k): v for k, v in w.items()})
        with open(os.path.join(out, "config.json"), "w") as f:
            json.dump(hf_config(cfg), f, indent=2)
        save_safetensors(os.path.join(out, "io.safetensors"), {"pixel_values": pixels, "features": features, "logits": logits})
        if variant != "basic":
            continue
        floating = [k for k, v in w.items() if v.is_floating_point() and not k.startswith("fc.")]
        tasks = [{k: w[k] + 0.05 * torch.randn(w[k].shape, generator=g).abs() if k.endswith("running_var")
                  else w[k] + 0.05 * torch.randn(w[k].shape, generator=g) for k in floating} for _ in range(2)]
        merged = {k: w[k] + 0.3 * sum(t[k] - w[k] for t in tasks) for k in floating}
        adaptation = [torch.randn(7, 3, 20, 20, generator=g), torch.randn(5, 3, 20, 20, generator=g)]
        with torch.no_grad():
            stats = recompute(cfg, merged, adaptation, batch=4)
        record = {"merged." + k: v for k, v in merged.items()}
        record.update({"task0": adaptation[0], "task1": adaptation[1]})
        for p, (mean, var) in stats.items():
            record[f"expected.{p}.running_mean"] = mean
            record[f"expected.{p}.running_var"] = var
        save_safetensors(os.path.join(out, "recompute.safetensors"), record, {"batch": "4"})


if __name__ == "__main__":
    main()
