#!/usr/bin/env python3
"""Iso-C, Iso-CTS and task arithmetic of the ResNet-18 benchmark's seed-1 build merged by the PyTorch reference
(tools/make_spectral_fixture.py, convolutions as [out, in·kh·kw] matrices) and evaluated in PyTorch
(tools/make_resnet_fixture.py's forward, CNTK's 255·p − μ input) on the first 200 test images of four tasks: whether
Iso-CTS's collapse on this network is the method or the service (docs/reproduction.md, "ResNet-18").
Run with Debian's torch: /usr/bin/python3 bench/isocts-reference-check.py [BUILD_DIR]"""
import os, sys, torch
sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'tools'))
import safetensors_io as io
io.TORCH_DTYPES['U8'] = torch.uint8
from safetensors_io import load_safetensors
import make_resnet_fixture as rn
import make_spectral_fixture as sp
import torch.nn.functional as F
d = sys.argv[1] if len(sys.argv) > 1 else 'data/resnet-benchmark/seed-1-3beb3ce8a7c0'
cfg = dict(layer_type='basic', embedding_size=64, hidden_sizes=[64, 128, 256, 512], depths=[2, 2, 2, 3])
base = load_safetensors(f'{d}/base/model.safetensors')
names = ['mnist', 'fashion', 'digits', 'letters', 'font_style', 'mnist_inverted']
tasks = [load_safetensors(f'{d}/tasks/{n}/model.safetensors') for n in names]
mean = torch.tensor([0.48294755524280025, 0.4545211193608303, 0.4041671453737745]).view(1, 3, 1, 1)
keys = [k for k, v in base.items() if v.is_floating_point() and not k.startswith('fc.')]
shape = {k: base[k].shape for k in keys}
taus = [{k: (t[k] - base[k]).reshape(base[k].shape[0], -1) if base[k].dim() == 4 else t[k] - base[k] for k in keys} for t in tasks]
def merged(update):
    return {k: base[k] + update[k].reshape(shape[k]) for k in keys}
models = {'iso_c': merged(sp.iso_c(taus)), 'iso_cts': merged(sp.iso_cts(taus)),
          'ta': {k: base[k] + 0.3 * sum(t[k] for t in taus).reshape(shape[k]) for k in keys}}
for n in names[:3] + names[5:]:
    j = names.index(n)
    data = load_safetensors(f'{d}/datasets/{n}.safetensors')
    x = data['pixel_values'][:200].float() - 255 * mean
    y = data['labels'][:200]
    for m, w in models.items():
        with torch.no_grad():
            f = rn.forward(cfg, w, x)
            acc = (F.linear(f, tasks[j]['fc.weight'], tasks[j]['fc.bias']).argmax(1) == y).float().mean().item()
        print(n, m, round(acc * 100, 1), flush=True)
