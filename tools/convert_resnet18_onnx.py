#!/usr/bin/env python3
"""ImageNet ResNet-18 from NuGet Microsoft.ML.DnnImageFeaturizer.ResNet18 0.24.0 (a CNTK export to ONNX) as a
torchvision state dict (safetensors) the service recognises, with a preprocessor_config.json that feeds it as CNTK did.

Usage: convert_resnet18_onnx.py ResNet18.onnx ResNetPreprocess.onnx OUT_DIR [IMAGE_SIZE]

The graph is read with Debian's python3-onnx: the 7×7 convolution is `conv1`; the 3×3 convolutions in graph order are
the blocks' conv1, conv2, a stage beginning where a block's first is strided (CNTK's ResNet-18 has depths
[2, 2, 2, 3]: a third block in its last stage); the strided 1×1 convolutions are the downsample shortcuts of layer2-4;
each convolution's batch norm is the BatchNormalization node that reads its output (scale, bias, mean, variance).
CNTK's model takes BGR pixels in 0-255 minus a mean image (ResNetPreprocess.onnx). Here the first convolution's input
channels are reversed (RGB in), and preprocessor_config.json normalises [0, 1] pixels with mean = that mean image's
per-channel average / 255 and std = 1/255, so x = 255 · p − μ per channel: CNTK's input with the mean image's average
in place of its pixels. CNTK pads its strided convolutions and the max pool only at the start (pads [1, 1, 0, 0],
the stem [3, 3, 2, 2]); for even sides that is what torchvision's symmetric padding computes, so images whose side is
a multiple of 32 give the same features (the benchmark checks them against ONNX Runtime's).
"""
import json
import os
import sys

import numpy as np
import onnx
import torch
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import save_safetensors  # noqa: E402


def convert(model_path):
    graph = onnx.load(model_path).graph
    init = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    norm_of = {n.input[0]: n for n in graph.node if n.op_type == "BatchNormalization"}
    attrs = lambda n: {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}  # noqa: E731
    stem, blocks, shortcuts = None, [], []
    for n in graph.node:
        if n.op_type != "Conv":
            continue
        k = list(attrs(n)["kernel_shape"])
        if k == [7, 7]:
            stem = n
        elif k == [3, 3]:
            blocks.append(n)
        elif k == [1, 1]:
            shortcuts.append(n)
    if stem is None or len(blocks) % 2 or len(shortcuts) != 3:
        raise SystemExit(f"not a basic-block ResNet: stem {stem is not None}, {len(blocks)} 3×3, {len(shortcuts)} 1×1")
    names = [("conv1", "bn1", stem)]
    stage, block = 1, -1
    for i in range(0, len(blocks), 2):
        if list(attrs(blocks[i])["strides"]) == [2, 2]:
            stage, block = stage + 1, -1
        block += 1
        for j in (0, 1):
            names.append((f"layer{stage}.{block}.conv{j + 1}", f"layer{stage}.{block}.bn{j + 1}", blocks[i + j]))
    if stage != 4:
        raise SystemExit(f"{stage} stages where a ResNet has 4")
    for stage, n in zip((2, 3, 4), shortcuts):
        names.append((f"layer{stage}.0.downsample.0", f"layer{stage}.0.downsample.1", n))
    state = {}
    for conv, bn, n in names:
        w = init[n.input[1]].astype(np.float32)
        if conv == "conv1":
            w = w[:, ::-1].copy()  # BGR → RGB
        state[conv + ".weight"] = torch.from_numpy(w)
        norm = norm_of[n.output[0]]
        if abs(attrs(norm)["epsilon"] - 1e-5) > 1e-9:
            raise SystemExit(f"{bn}: epsilon {attrs(norm)['epsilon']} is not 1e-5")
        for suffix, name in zip(("weight", "bias", "running_mean", "running_var"), norm.input[1:5]):
            state[f"{bn}.{suffix}"] = torch.from_numpy(init[name].astype(np.float32).reshape(-1).copy())
        state[f"{bn}.num_batches_tracked"] = torch.tensor(0, dtype=torch.int64)
    return state


def channel_mean(preprocess_path):
    graph = onnx.load(preprocess_path).graph
    mean_image = next(numpy_helper.to_array(i) for i in graph.initializer if i.name == "MeanImage")
    return mean_image.reshape(3, -1).mean(axis=1)[::-1]  # BGR → RGB


def main():
    model, preprocess, out = sys.argv[1:4]
    size = int(sys.argv[4]) if len(sys.argv) > 4 else 224
    os.makedirs(out, exist_ok=True)
    state = convert(model)
    order = sorted(state, key=lambda k: (k.split(".")[0] != "conv1" and k.split(".")[0] != "bn1", k))
    save_safetensors(os.path.join(out, "model.safetensors"), {k: state[k] for k in order})
    mean = channel_mean(preprocess)
    with open(os.path.join(out, "preprocessor_config.json"), "w") as f:
        json.dump({"crop_size": {"height": size, "width": size}, "image_mean": [float(m) / 255 for m in mean],
                   "image_std": [1 / 255] * 3, "source": "Microsoft.ML.DnnImageFeaturizer.ResNet18 0.24.0"}, f, indent=2)
    print(f"{len(state)} tensors ({sum(v.numel() for v in state.values() if v.is_floating_point())} parameters) → {out}; "
          f"RGB mean {[round(float(m), 3) for m in mean]} (0-255)")


if __name__ == "__main__":
    main()
