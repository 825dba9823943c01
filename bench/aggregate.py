#!/usr/bin/env python3
"""Mean ± sample standard deviation over seeds of the tables `AdaMerging.Benchmark run` wrote:
bench/aggregate.py data/benchmark/results-seed-1.md data/benchmark/results-seed-2.md …"""
import statistics, sys

tables = []
for path in sys.argv[1:]:
    lines = [l for l in open(path) if l.startswith("|")]
    header = [c.strip() for c in lines[0].strip().strip("|").split("|")]
    rows = {}
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] == "method" or cells[0].startswith("method"): break      # the generalisation table follows
        if len(cells) != len(header): break
        rows[cells[0]] = [float(c) for c in cells[1:]]
    tables.append((header, rows))

header, first = tables[0]
print(f"| method (mean ± sd over {len(tables)} seeds) | " + " | ".join(header[1:]) + " |")
print("|---|" + "---:|" * (len(header) - 1))
for method in first:
    columns = zip(*(rows[method] for _, rows in tables))
    cells = [f"{statistics.mean(c):.1f} ± {statistics.stdev(c):.1f}" if len(c) > 1 else f"{c[0]:.1f}" for c in columns]
    print(f"| {method} | " + " | ".join(cells) + " |")
