#!/usr/bin/env python3
"""The PyTorch reference for WUDI merging (Cheng et al., "Whoever Started the Interference Should End It: Guiding
Data-Free Model Merging via Task Vectors", ICML 2025), written from the authors' code as FusionBench carries it
(fusion_bench/method/wudi/wudi.py, wudi_merging): every 2-D tensor's update is a torch.nn.Parameter started at the sum
of the task vectors and optimised by torch.optim.Adam (lr 1e-5, no weight decay) for 300 iterations on
Σk ‖(τ − τk) τkᵀ‖² / ‖τk‖² with autograd; every other tensor is the sum divided by K.

It reads the spectral fixture's base and three tasks (tools/make_spectral_fixture.py) and writes wudi.safetensors
(θ0 + the update) and wudi_one_task.safetensors (the same over task 0 alone) beside them, for
AdaMerging.Tests/Domain/Methods/Wudi/WudiTests.cs.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import load_safetensors, save_safetensors  # noqa: E402


def wudi(task_vectors, iter_num=300, lr=1e-5):
    merged = {}
    for key in task_vectors[0]:
        tvs = torch.stack([tv[key] for tv in task_vectors])
        vector = torch.nn.Parameter(torch.sum(tvs, dim=0))
        if tvs[0].dim() == 2:
            optimizer = torch.optim.Adam([vector], lr=lr, weight_decay=0)
            l2_norms = torch.square(torch.norm(tvs.reshape(tvs.shape[0], -1), p=2, dim=-1))
            for _ in range(iter_num):
                disturbing = vector.unsqueeze(0) - tvs
                product = torch.matmul(disturbing, tvs.transpose(1, 2))
                loss = torch.sum(torch.square(product) / l2_norms.unsqueeze(-1).unsqueeze(-1))
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            merged[key] = vector.detach()
        else:
            merged[key] = (vector / len(tvs)).detach()
    return merged


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "AdaMerging.Tests", "Fixtures", "spectral")
    base = load_safetensors(os.path.join(folder, "base.safetensors"))
    tasks = [load_safetensors(os.path.join(folder, f"task{k}.safetensors")) for k in range(3)]
    taus = [{n: t[n] - base[n] for n in base} for t in tasks]
    for name, subset in [("wudi", taus), ("wudi_one_task", taus[:1])]:
        update = wudi(subset)
        save_safetensors(os.path.join(folder, f"{name}.safetensors"), {n: base[n] + update[n] for n in base})
    print("torch", torch.__version__, "wrote", folder)


if __name__ == "__main__":
    main()
