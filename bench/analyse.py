#!/usr/bin/env python3
"""Summarises a results JSON written by `AdaMerging.Benchmark run --out FILE.md` (FILE.json next to it): per AdaMerging
run, the objective's start and end (mean of the first and last 20 steps), the mean clamped λ per task, and the share of
coefficients at the clamp's edges (a λ clamped at 0 or 1 gets no gradient back: docs/algorithm.md)."""
import json, sys

for entry in json.load(open(sys.argv[1])):
    report = entry["report"]
    objective = report.get("objectivePerStep") or []
    line = f"{entry['method']}:"
    if objective:
        head, tail = objective[:20], objective[-20:]
        line += f" objective {sum(head)/len(head):.3f} -> {sum(tail)/len(tail):.3f}"
    coefficients = report.get("coefficients") or []
    if coefficients:
        tasks = report["taskNames"]
        means = [sum(row["lambda"][k] for row in coefficients) / len(coefficients) for k in range(len(tasks))]
        line += " | mean lambda " + ", ".join(f"{t} {m:.2f}" for t, m in zip(tasks, means))
        values = [v for row in coefficients for v in row["lambda"]]
        line += f" | at 1: {sum(v >= 1 for v in values) / len(values):.0%}, at 0: {sum(v <= 0 for v in values) / len(values):.0%}"
    print(line)
