#!/usr/bin/env python3
"""The PyTorch reference for RegMean (Debian's python3-torch), written from the authors' method as FusionBench's
regmean computes it (fusion_bench/method/regmean: the forward hook's running Gram matrix, reduce_non_diagonal_elements,
merging_with_regmean_weights).

Over the tiny CLIP fixture (tools/make_clip_fixture.py) as the base, it writes K = 3 fine-tuned models (the base plus
seeded perturbations), 40 images per task, and the merged model at α = 0.9 from all 40 images in batches of 32 (so
the running mean spans two batches), for AdaMerging.Tests/Domain/Merging/RegMeanTests.cs to compare to 1e-5.

The same over the tiny ResNet with basic blocks (tools/make_resnet_fixture.py) as resnet_*.safetensors: every
convolution solved as the linear map of its im2col patches (this service's extension, docs/algorithm.md, "RegMean";
FusionBench hooks nn.Linear only), batch norms averaged, the classifier left out (a head), computed in float64.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from make_clip_fixture import CFG, forward  # noqa: E402
import make_resnet_fixture as resnet  # noqa: E402
from safetensors_io import load_safetensors, save_safetensors  # noqa: E402

EXAMPLES, BATCH, ALPHA = 40, 32, 0.9


def grams_of(w, images, run=forward):
    """Each linear layer's mean Gram matrix XᵀX / rows over the images, folded batch by batch as FusionBench's hook."""
    grams, rows = {}, {}

    def observe(module, x):
        x = x.detach().reshape(-1, x.shape[-1])
        xtx = x.T @ x
        if module not in grams:
            grams[module], rows[module] = xtx / x.shape[0], x.shape[0]
        else:
            grams[module] = (grams[module] * rows[module] + xtx) / (rows[module] + x.shape[0])
            rows[module] += x.shape[0]

    with torch.no_grad():
        for start in range(0, EXAMPLES, BATCH):
            run(w, images[start:start + BATCH], observe)
    return grams


def reduce_non_diagonal(gram, ratio):
    n = gram.shape[0]
    return gram * (torch.diag(torch.ones(n) - ratio) + torch.zeros(n, n).fill_(ratio))


def regmean(tasks, grams):
    merged = {}
    for name, value in tasks[0].items():
        if not value.is_floating_point():
            continue
        module = name[:-len(".weight")] if name.endswith(".weight") else None
        if module in grams[0]:
            reduced = [reduce_non_diagonal(g[module], ALPHA) for g in grams]
            weighted = sum(r @ t[name].reshape(value.shape[0], -1).T for r, t in zip(reduced, tasks))
            gram = sum(reduced)
            # An input no example reached (a channel every ReLU zeroed) is pinned to the tasks' mean weights.
            unreached = gram.diagonal() == 0
            mean = torch.stack([t[name] for t in tasks]).mean(0).reshape(value.shape[0], -1).T
            gram = gram + torch.diag(unreached.to(gram.dtype))
            weighted = torch.where(unreached.unsqueeze(1), mean, weighted)
            merged[name] = (torch.inverse(gram) @ weighted).T.reshape(value.shape)
        else:
            merged[name] = torch.stack([t[name] for t in tasks]).mean(0)
    return merged


def main():
    here = os.path.dirname(__file__)
    fixtures = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "AdaMerging.Tests", "Fixtures")
    out = os.path.join(fixtures, "regmean")
    os.makedirs(out, exist_ok=True)
    base = load_safetensors(os.path.join(fixtures, "clip_tiny", "model.safetensors"))
    g = torch.Generator().manual_seed(23)
    tasks = [{n: (v + 0.05 * torch.randn(v.shape, generator=g)) if v.is_floating_point() else v for n, v in base.items()} for _ in range(3)]
    size = CFG["image_size"]
    images = {f"task{k}": torch.randn(EXAMPLES, 3, size, size, generator=g) for k in range(3)}
    for k, t in enumerate(tasks):
        save_safetensors(os.path.join(out, f"task{k}.safetensors"), t)
    save_safetensors(os.path.join(out, "images.safetensors"), images)
    grams = [grams_of(t, images[f"task{k}"]) for k, t in enumerate(tasks)]
    save_safetensors(os.path.join(out, "regmean.safetensors"), regmean(tasks, grams))
    write_resnet(fixtures, out)
    print("torch", torch.__version__, "wrote", out)


def write_resnet(fixtures, out):
    cfg = resnet.VARIANTS["basic"]
    base = load_safetensors(os.path.join(fixtures, "resnet_tiny", "basic", "torchvision.safetensors"))
    g = torch.Generator().manual_seed(29)
    kept = [n for n, v in base.items() if v.is_floating_point() and not n.startswith("fc.")]
    tasks = [{n: base[n] + 0.05 * (torch.randn(base[n].shape, generator=g).abs() if n.endswith("running_var")
                                   else torch.randn(base[n].shape, generator=g)) for n in kept} for _ in range(3)]
    images = {f"task{k}": torch.randn(EXAMPLES, 3, 20, 20, generator=g) for k in range(3)}
    for k, t in enumerate(tasks):
        save_safetensors(os.path.join(out, f"resnet_task{k}.safetensors"), t)
    save_safetensors(os.path.join(out, "resnet_images.safetensors"), images)
    # In float64 (the stored float32 values widened), as the test runs it: solving with a convolution's Gram matrix
    # amplifies float32's rounding past 1e-5 (measured 1.5e-5 on layer1.0.conv2), which is the arithmetic, not the method.
    run = lambda w, x, observe: resnet.forward(cfg, w, x, observe=observe)  # noqa: E731
    wide = [{n: v.double() for n, v in t.items()} for t in tasks]
    grams = [grams_of(t, images[f"task{k}"].double(), run) for k, t in enumerate(wide)]
    save_safetensors(os.path.join(out, "resnet_regmean.safetensors"), {n: v.float() for n, v in regmean(wide, grams).items()})


if __name__ == "__main__":
    main()
