#!/usr/bin/env python3
"""bench/reproduce-lm.sh's table: each task's completion perplexity per method (the report's `completions`), mean and
range over the seeds, with the base's and each expert's beside them; then how each AdaMerging objective compares with
the best data-free method. Usage: bench/lm_table.py data/lm/runs"""
import json
import math
import os
import sys

root = sys.argv[1]
reports = {}   # label -> seed -> report
for seed in sorted(os.listdir(root)):
    for label in sorted(os.listdir(os.path.join(root, seed))):
        path = os.path.join(root, seed, label, "out", "report.json")
        if os.path.exists(path):
            with open(path) as f:
                reports.setdefault(label, {})[seed] = json.load(f)
if not reports:
    sys.exit("no reports under " + root)
first = next(iter(next(iter(reports.values())).values()))
tasks = [row["task"] for row in first["completions"]]


def column(report, key):
    rows = report["completions"] + [report["completionsAverage"]]
    return [row[key]["perplexity"] for row in rows]


def cell(values):
    mean = sum(values) / len(values)
    return f"{mean:.3f} ({min(values):.3f}–{max(values):.3f})" if len(values) > 1 else f"{mean:.3f}"


print(f"Completion perplexity per byte (lower is better), mean (range) over {len(first and reports[next(iter(reports))])} seed(s)\n")
print("| method | " + " | ".join(tasks + ["average"]) + " |")
print("|---|" + "---:|" * (len(tasks) + 1))
anchor = reports[next(iter(reports))]
for name, key in (("base", "base"), ("individual (each task's expert)", "individual")):
    per_seed = [column(r, key) for r in anchor.values()]
    print(f"| {name} | " + " | ".join(cell([s[i] for s in per_seed]) for i in range(len(tasks) + 1)) + " |")
averages = {}
for label, by_seed in reports.items():
    per_seed = [column(r, "merged") for r in by_seed.values()]
    averages[label] = [s[-1] for s in per_seed]
    print(f"| {label} | " + " | ".join(cell([s[i] for s in per_seed]) for i in range(len(tasks) + 1)) + " |")
data_free = {k: v for k, v in averages.items() if not k.startswith("adamerging")}
if data_free:
    best = min(data_free, key=lambda k: sum(data_free[k]) / len(data_free[k]))
    for label in (k for k in averages if k.startswith("adamerging")):
        ratios = [a / b for a, b in zip(averages[label], data_free[best])]
        print(f"\n{label}: average perplexity {cell(ratios)}× {best}'s (per seed)", end="")
    print()
