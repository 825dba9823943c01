#!/usr/bin/env python3
"""Mean ± sample standard deviation over seeds of the tables `AdaMerging.Benchmark run` wrote:
bench/aggregate.py data/benchmark/results-seed-1.md data/benchmark/results-seed-2.md …
Where a table's .json lies beside it, a last column gives each merge's time (`phaseSeconds.merge` of its report)."""
import json, os, statistics, sys


def table(path):
    lines = [l for l in open(path) if l.startswith("|")]
    header = [c.strip() for c in lines[0].strip().strip("|").split("|")]
    rows = {}
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0].startswith("method"): break      # the generalisation table follows
        if len(cells) != len(header): break
        rows[cells[0]] = [float(c) for c in cells[1:]]
    return header, rows


def merge_seconds(path):
    reports = os.path.splitext(path)[0] + ".json"
    if not os.path.exists(reports): return None
    return {r["method"]: r["report"]["phaseSeconds"]["merge"] for r in json.load(open(reports))}


def cell(values):
    values = [v for v in values if v is not None]
    if not values: return ""
    if len(values) == 1: return f"{values[0]:.1f}"
    return f"{statistics.mean(values):.1f} ± {statistics.stdev(values):.1f}"


tables = [table(p) for p in sys.argv[1:]]
times = [merge_seconds(p) for p in sys.argv[1:]]
with_times = all(t is not None for t in times)
header, first = tables[0]
print(f"| method (mean ± sd over {len(tables)} seeds) | " + " | ".join(header[1:]) + (" | merge (s) |" if with_times else " |"))
print("|---|" + "---:|" * (len(header) - 1 + with_times))
for method in first:
    missing = [p for p, (_, rows) in zip(sys.argv[1:], tables) if method not in rows]
    if missing: sys.exit(f"{method!r} is not in {', '.join(missing)}")
    cells = [cell(c) for c in zip(*(rows[method] for _, rows in tables))]
    if with_times: cells.append(cell([t.get(method) for t in times]))
    print(f"| {method} | " + " | ".join(cells) + " |")
