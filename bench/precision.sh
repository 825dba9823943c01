#!/usr/bin/env bash
# bf16 against float32 on the reproduction benchmark (docs/reproduction.md, seed 1 by default): layer-wise
# AdaMerging and AdaMerging++ with the declared defaults (docs/algorithm.md), once per precision, through the worker's `run` command (the
# queued job's code path, without the HTTP round trips). Prints each run's average accuracy and optimisation time.
#   bench/precision.sh [--seed N]
set -euo pipefail
cd "$(dirname "$0")/.."
bench/fetch-data.sh
scripts/prerequisites.sh fonts
dotnet build bench/AdaMerging.Benchmark -c Release -nologo -v q >/dev/null
dotnet build AdaMerging.Worker -c Release -nologo -v q >/dev/null
dir=$(dotnet bench/AdaMerging.Benchmark/bin/Release/net10.0/linux-x64/AdaMerging.Benchmark.dll build "$@" | tail -n 1)
worker=AdaMerging.Worker/bin/Release/net10.0/linux-x64/AdaMerging.Worker.dll
out="$dir/precision"
mkdir -p "$out"
tasks=$(python3 - "$dir" <<'PY'
import json, os, sys
d = sys.argv[1]
names = sorted(os.listdir(os.path.join(d, "tasks")))
print(json.dumps([{"name": n, "checkpoint": f"tasks/{n}", "head": f"heads/{n}.safetensors",
                   "adaptationData": f"datasets/{n}.safetensors", "evaluationData": f"datasets/{n}.safetensors"} for n in names]))
PY
)
for plus in false true; do
  for precision in float32 bfloat16; do
    name="layer-plus-$plus-$precision"
    echo "{\"method\":\"adamerging\",\"base\":\"base\",\"tasks\":$tasks,\"options\":{\"granularity\":\"layer\",\"plus\":$plus,\"precision\":\"$precision\"}}" >"$dir/$name.json"
    rm -rf "${out:?}/$name"
    dotnet "$worker" run "$dir/$name.json" --out "$out/$name" >"$out/$name.log" 2>&1
    python3 - "$out/$name/report.json" "$name" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
avg, phases = r["average"], r["phaseSeconds"]
pct = lambda v: v if v > 1 else 100 * v
print(f'{sys.argv[2]}: average accuracy {pct(avg["merged"]):.2f} (task arithmetic {pct(avg["taskArithmetic"]):.2f}); '
      f'optimise {phases.get("optimise", 0):.1f} s, load {phases.get("load", 0):.1f} s, whole merge phase {phases.get("merge", 0):.1f} s')
PY
  done
done
