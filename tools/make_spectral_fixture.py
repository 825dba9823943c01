#!/usr/bin/env python3
"""The PyTorch reference for the spectral merging methods (Debian's python3-torch), written from the authors' code:

  tsv      Task Singular Vectors merging, TSV-M (Gargiulo et al., CVPR 2025; AntoAndGar/task_singular_vectors,
           compute_and_sum_svd_mem_reduction, and FusionBench's task_singular_vector)
  iso_c    isotropic merging in the common subspace (Marczak et al., ICML 2025; danielm1405/iso-merging, FusionBench's
           isotropic_merging.iso_c)
  iso_cts  isotropic merging in common and task-specific subspaces (the same, iso_cts)

It writes a base and K = 3 task checkpoints with matrices of several shapes (tall, wide, square, one whose rank does
not divide by K), a vector, a 3-D tensor and a matrix named text_projection, and each method's merged model at its
defaults, for AdaMerging.Tests/Domain/Merging/SpectralMergeTests.cs to compare to 1e-5.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import save_safetensors  # noqa: E402

SHAPES = {
    "blocks.0.attn.q.weight": (12, 8),
    "blocks.0.attn.q.bias": (12,),
    "blocks.0.mlp.fc1.weight": (8, 12),
    "blocks.0.mlp.fc2.weight": (10, 10),
    "blocks.0.norm.weight": (10,),
    "patch.weight": (4, 2, 3),
    "text_projection": (6, 4),
}


def is_matrix(name, t, exclude_text_projection):
    return t.dim() == 2 and not (exclude_text_projection and "text_projection" in name)


def running_mean(taus, name):
    """The authors' mean of what they do not decompose: m = τ0, then m += (τi − m) / (i + 1)."""
    mean = taus[0][name].clone()
    for i in range(1, len(taus)):
        mean += (taus[i][name] - mean) / (i + 1)
    return mean


def tsv(taus, rank_share=None, alpha=1.0):
    """TSV-M: each task's top singular components in its own share of the rank, U and V orthogonalised (Procrustes)."""
    k = len(taus)
    share = 1 / k if rank_share is None else rank_share
    out = {}
    for name in taus[0]:
        if not is_matrix(name, taus[0][name], True):
            out[name] = alpha * running_mean(taus, name)
            continue
        for i in range(k):
            u, s, v = torch.linalg.svd(taus[i][name], full_matrices=False)
            if i == 0:
                sum_u, sum_s, sum_v = torch.zeros_like(u), torch.zeros_like(s), torch.zeros_like(v)
            r = int(s.shape[0] * share)
            sum_u[:, i * r:(i + 1) * r] = u[:, :r]
            sum_s[i * r:(i + 1) * r] = s[:r]
            sum_v[i * r:(i + 1) * r, :] = v[:r, :]
        u_u, _, v_u = torch.linalg.svd(sum_u, full_matrices=False)
        u_v, _, v_v = torch.linalg.svd(sum_v, full_matrices=False)
        out[name] = alpha * torch.linalg.multi_dot((u_u, v_u, torch.diag(sum_s), u_v, v_v))
    return out


def iso_c(taus, alpha=1.0):
    """Iso-C: the task-arithmetic sum of each matrix with its singular values replaced by their mean."""
    k = len(taus)
    out = {}
    for name in taus[0]:
        merged = sum(t[name] for t in taus) / k
        if is_matrix(name, taus[0][name], False):
            merged *= k
            u, s, v = torch.linalg.svd(merged, full_matrices=False)
            merged = torch.linalg.multi_dot((u, torch.diag(torch.ones_like(s) * s.mean()), v))
        out[name] = alpha * merged
    return out


def iso_cts_space(ws, common_space_fraction=0.8):
    """Iso-CTS's space of one matrix from the tasks' updates ws: U, the flat spectrum and Vᵀ (task i owns components
    [i·p, (i+1)·p), the common subspace the c after K·p), with p and c."""
    k, shape = len(ws), ws[0].shape
    combined = sum(ws)
    common = int(min(shape) * common_space_fraction)
    specific_total = round((min(shape) - common) / k) * k
    common = min(shape) - specific_total
    u, s, v = torch.linalg.svd(combined, full_matrices=False)
    common_u, common_s, common_v = u[:, :common], s[:common], v[:common, :]
    per_task = int((min(shape) - common) / k)
    for i in range(k):
        w_ts = ws[i] - common_u @ common_u.T @ ws[i]
        u_ts, s_ts, v_ts = torch.linalg.svd(w_ts, full_matrices=False)
        if i == 0:
            space_u, space_s, space_v = torch.zeros_like(u_ts), torch.zeros_like(s_ts), torch.zeros_like(v_ts)
        space_u[:, i * per_task:(i + 1) * per_task] = u_ts[:, :per_task]
        space_s[i * per_task:(i + 1) * per_task] = s_ts[:per_task]
        space_v[i * per_task:(i + 1) * per_task, :] = v_ts[:per_task, :]
    space_u[:, k * per_task:k * per_task + common] = common_u
    space_s[k * per_task:k * per_task + common] = common_s
    space_v[k * per_task:k * per_task + common, :] = common_v
    uu, _, vu = torch.linalg.svd(space_u, full_matrices=False)
    uv, _, vv = torch.linalg.svd(space_v, full_matrices=False)
    return uu @ vu, torch.ones_like(space_s) * space_s.mean(), uv @ vv, per_task, common


def iso_cts(taus, common_space_fraction=0.8, alpha=1.0):
    """Iso-CTS: the sum's top subspace, the rest of the rank shared among the tasks' own subspaces, flat spectrum."""
    out = {}
    for name in taus[0]:
        if not is_matrix(name, taus[0][name], False):
            out[name] = alpha * running_mean(taus, name)
            continue
        u, flat, vh, _, _ = iso_cts_space([t[name] for t in taus], common_space_fraction)
        out[name] = alpha * torch.linalg.multi_dot((u, torch.diag(flat), vh))
    return out


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "AdaMerging.Tests", "Fixtures", "spectral")
    os.makedirs(out, exist_ok=True)
    g = torch.Generator().manual_seed(18)
    base = {n: torch.randn(s, generator=g) for n, s in SHAPES.items()}
    tasks = [{n: base[n] + 0.1 * torch.randn(s, generator=g) for n, s in SHAPES.items()} for _ in range(3)]
    save_safetensors(os.path.join(out, "base.safetensors"), base)
    for i, t in enumerate(tasks):
        save_safetensors(os.path.join(out, f"task{i}.safetensors"), t)
    taus = [{n: t[n] - base[n] for n in SHAPES} for t in tasks]
    for method, update in [("tsv", tsv(taus)), ("iso_c", iso_c(taus)), ("iso_cts", iso_cts(taus))]:
        save_safetensors(os.path.join(out, f"{method}.safetensors"), {n: base[n] + update[n] for n in SHAPES})
    print("torch", torch.__version__, "wrote", out)


if __name__ == "__main__":
    main()
