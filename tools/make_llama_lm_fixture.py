#!/usr/bin/env python3
"""AdaMerging of causal language models as an independent PyTorch reference computes it (Debian python3-torch; no
transformers package): the λ gradient and λ after a few Adam steps for both objectives, and the completion scores of
the evaluation (docs/algorithm.md, "Language-model tasks", "Objectives").

The bases are make_llama_fixture.py's causal LMs (llama3_causal_lm: untied lm_head; qwen2_tied: the output is the
token embeddings). Two tasks each are the base plus 0.05 · N(0, 1) on every tensor. In float64, with autograd through
the merge θ = θ0 + Σk clamp(λ, 0, 1)[row, k] τk (a row per tensor: layer-wise, the paper's):
  entropy    Σk mean over task k's prompt tokens of H(softmax(lm_head(h_t)))
  expert_kl  Σk mean over task k's prompt tokens of KL(p_expert_k ‖ p_merged), the expert being task k's own weights
torch.optim.Adam (lr 0.05) for 4 steps from λ = 0.3, every step on all six prompts of each task. The completion
scores (float32, the base): Σ −log p of the completion tokens given what precedes them, their count, and how many
completions are every token the argmax (greedy decoding reproduces them); half the completions are the base's own
greedy continuation, so exact match is neither 0 nor 1.
Outputs AdaMerging.Tests/Fixtures/llama_lm/<variant>/{task_a,task_b}/model.safetensors (config.json beside) and
reference.safetensors: tokens_a, tokens_b [6, 2, 9] (ids and mask, as the service packs them), gradient.<objective>
and lambda.<objective> [tensors, 2] (rows in sorted tensor order, names in names.json), objective.<objective> [4];
lambda.range.<clamp|project> and objective.range.<…> for the entropy with lambdaRange [0.25, 0.4], clamped in the forward
pass or also projected after each step; for llama3_causal_lm also eval_tokens [6, 2, L] (mask 2 on completion tokens), eval_nll, eval_tokens_scored, eval_exact.
Usage: /usr/bin/python3 tools/make_llama_lm_fixture.py
"""
import json
import os
import shutil
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import save_safetensors, load_safetensors  # noqa: E402
from make_llama_fixture import forward  # noqa: E402

HERE = os.path.dirname(__file__)
SOURCE = os.path.join(HERE, "..", "AdaMerging.Tests", "Fixtures", "llama_tiny")
OUT = os.path.join(HERE, "..", "AdaMerging.Tests", "Fixtures", "llama_lm")
VARIANTS = {"llama3_causal_lm": ("model.", "lm_head.weight"), "qwen2_tied": ("model.", "model.embed_tokens.weight")}
STEPS, LR, INITIAL = 4, 0.05, 0.3


def prompts(cfg, g, lengths):
    pad, n, width = cfg["pad_token_id"], len(lengths), max(lengths)
    batch = torch.zeros((n, 2, width), dtype=torch.int64)
    batch[:, 0] = pad
    for r, length in enumerate(lengths):
        batch[r, 0, :length] = torch.randint(2, cfg["vocab_size"] - 2, (length,), generator=g)
        batch[r, 1, :length] = 1
    return batch


def log_probs(w, prefix, out, cfg, batch, rows_of):
    ids, mask = batch[:, 0], batch[:, 1]
    hidden = forward(w, prefix, cfg, ids, mask.clamp(max=1), all_positions=True)
    rows = rows_of(mask)
    logits = hidden.reshape(-1, hidden.shape[-1])[rows] @ w[out].T
    return torch.log_softmax(logits.double() if logits.dtype == torch.float64 else logits.float(), -1)


def objective(kind, w, experts, prefix, out, cfg, batches):
    total = torch.zeros((), dtype=torch.float64)
    for k, batch in enumerate(batches):
        logp = log_probs(w, prefix, out, cfg, batch, lambda m: m.flatten() > 0)
        if kind == "entropy":
            total = total + (-(logp.exp() * logp).sum(-1).mean())
        else:
            with torch.no_grad():
                expert = log_probs(experts[k], prefix, out, cfg, batch, lambda m: m.flatten() > 0)
            total = total + (expert.exp() * (expert - logp)).sum(-1).mean()
    return total


def merged(base, taus, names, lam, low=0.0, high=1.0):
    c = lam.clamp(low, high)
    return {n: base[n] + sum(c[i, k] * taus[k][n] for k in range(len(taus))) for i, n in enumerate(names)}


def adamerging(kind, base, tasks, taus, names, prefix, out, cfg, batches, low=0.0, high=1.0, project=False):
    """project: projected Adam, λ clamped into [low, high] after every step (lambdaBound: project)."""
    lam = torch.full((len(names), len(tasks)), INITIAL, dtype=torch.float64, requires_grad=True)
    gradient = torch.autograd.grad(objective(kind, merged(base, taus, names, lam, low, high), tasks, prefix, out, cfg, batches), lam)[0]
    optimiser = torch.optim.Adam([lam], lr=LR)
    values = []
    for _ in range(STEPS):
        optimiser.zero_grad()
        loss = objective(kind, merged(base, taus, names, lam, low, high), tasks, prefix, out, cfg, batches)
        loss.backward()
        optimiser.step()
        if project:
            with torch.no_grad():
                lam.clamp_(low, high)
        values.append(loss.item())
    return gradient, lam.detach(), torch.tensor(values, dtype=torch.float64)


def completions(w, prefix, out, cfg, g):
    """Six prompts; completions 0, 2, 4 the base's greedy two tokens, 1, 3, 5 random; scored in float32."""
    pad, rows = cfg["pad_token_id"], []
    for r in range(6):
        prompt = torch.randint(2, cfg["vocab_size"] - 2, (3 + r % 3,), generator=g)
        if r % 2 == 0:
            ids = prompt
            for _ in range(2):
                with torch.no_grad():
                    h = forward(w, prefix, cfg, ids[None], torch.ones_like(ids)[None], all_positions=True)
                ids = torch.cat([ids, (h[0, -1] @ w[out].T).argmax()[None]])
            completion = ids[len(prompt):]
        else:
            completion = torch.randint(2, cfg["vocab_size"] - 2, (2,), generator=g)
        rows.append((prompt, completion))
    width = max(len(p) + len(c) for p, c in rows)
    batch = torch.zeros((6, 2, width), dtype=torch.int64)
    batch[:, 0] = pad
    for r, (p, c) in enumerate(rows):
        batch[r, 0, :len(p) + len(c)] = torch.cat([p, c])
        batch[r, 1, :len(p)] = 1
        batch[r, 1, len(p):len(p) + len(c)] = 2
    with torch.no_grad():
        hidden = forward(w, prefix, cfg, batch[:, 0], batch[:, 1].clamp(max=1), all_positions=True)
    scored = batch[:, 1, 1:] == 2
    logp = torch.log_softmax(hidden[:, :-1] @ w[out].T, -1)
    targets = batch[:, 0, 1:]
    nll = -logp.gather(-1, targets[..., None])[..., 0][scored].double().sum()
    right = (logp.argmax(-1) == targets) | ~scored
    exact = right.all(-1).sum()
    return batch, nll, int(scored.sum()), int(exact)


def main():
    g = torch.Generator().manual_seed(53)
    for variant, (prefix, out) in VARIANTS.items():
        folder = os.path.join(OUT, variant)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(SOURCE, variant, "config.json")) as f:
            cfg = json.load(f)
        base32 = load_safetensors(os.path.join(SOURCE, variant, "model.safetensors"))
        tasks32 = []
        for name in ("task_a", "task_b"):
            task = {n: t + 0.05 * torch.randn(t.shape, generator=g) for n, t in base32.items()}
            os.makedirs(os.path.join(folder, name), exist_ok=True)
            save_safetensors(os.path.join(folder, name, "model.safetensors"), task)
            shutil.copy(os.path.join(SOURCE, variant, "config.json"), os.path.join(folder, name, "config.json"))
            tasks32.append(task)
        names = sorted(base32)
        base = {n: t.double() for n, t in base32.items()}
        tasks = [{n: t.double() for n, t in task.items()} for task in tasks32]
        taus = [{n: task[n] - base[n] for n in names} for task in tasks]
        batches = [prompts(cfg, g, [9, 4, 7, 3, 8, 5]), prompts(cfg, g, [6, 9, 2, 5, 7, 4])]
        reference = {"tokens_a": batches[0], "tokens_b": batches[1]}
        for kind in ("entropy", "expert_kl"):
            gradient, lam, values = adamerging(kind, base, tasks, taus, names, prefix, out, cfg, batches)
            reference[f"gradient.{kind}"], reference[f"lambda.{kind}"], reference[f"objective.{kind}"] = gradient, lam, values
        # lambdaRange [0.25, 0.4]: narrow enough that four steps of 0.05 reach both bounds, clamped and projected
        for bound in ("clamp", "project"):
            _, lam, values = adamerging("entropy", base, tasks, taus, names, prefix, out, cfg, batches, 0.25, 0.4, bound == "project")
            reference[f"lambda.range.{bound}"], reference[f"objective.range.{bound}"] = lam, values
        if variant == "llama3_causal_lm":
            batch, nll, count, exact = completions(base32, prefix, out, cfg, g)
            reference.update(eval_tokens=batch, eval_nll=nll.reshape(1), eval_tokens_scored=torch.tensor([count]), eval_exact=torch.tensor([exact]))
        save_safetensors(os.path.join(folder, "reference.safetensors"), reference)
        with open(os.path.join(folder, "names.json"), "w") as f:
            json.dump(names, f, indent=1)


if __name__ == "__main__":
    main()
