#!/usr/bin/env bash
# Streamed data-free merges of a Llama-shaped bfloat16 model in shards (issue 30; docs/performance.md, "Streamed
# merges"): writes the base and K tasks once (bench llama-checkpoints), then merges them with each method through the
# worker's `merge` command under GNU time, printing the peak resident memory, the wall time, the input read and the
# rate against the same machine's sequential read of the same files (cat, page cache as the merge found it).
#   bench/stream-merge.sh [--size 1b|300m|tiny] [--tasks 4] [--methods task_arithmetic,ties]
set -euo pipefail
cd "$(dirname "$0")/.."
size=1b tasks=4 methods=task_arithmetic,ties
while [ $# -gt 0 ]; do
  case "$1" in
    --size) size=$2; shift 2 ;;
    --tasks) tasks=$2; shift 2 ;;
    --methods) methods=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
dotnet build bench/AdaMerging.Benchmark -c Release -nologo -v q >/dev/null
dotnet build AdaMerging.Worker -c Release -nologo -v q >/dev/null
dir=data/llama-$size-k$tasks
[ -f "$dir/task$tasks/config.json" ] || dotnet bench/AdaMerging.Benchmark/bin/Release/net10.0/linux-x64/AdaMerging.Benchmark.dll llama-checkpoints --out "$dir" --size "$size" --tasks "$tasks"
worker=AdaMerging.Worker/bin/Release/net10.0/linux-x64/AdaMerging.Worker.dll
inputs=$(du -cb "$dir"/base/*.safetensors $(for k in $(seq 1 "$tasks"); do echo "$dir/task$k/"*.safetensors; done) | tail -n 1 | cut -f1)
echo "model: $(du -cb "$dir"/base/*.safetensors | tail -n 1 | cut -f1) bytes; inputs (base + $tasks tasks): $inputs bytes"
start=$(date +%s.%N); cat "$dir"/base/*.safetensors "$dir"/task*/*.safetensors >/dev/null; end=$(date +%s.%N)
read_rate=$(python3 -c "print($inputs / ($end - $start) / 1e9)")
echo "sequential read (cat): $(python3 -c "print(round($read_rate, 2))") GB/s"
task_args=$(for k in $(seq 1 "$tasks"); do printf -- "--task %s " "$dir/task$k"; done)
for method in ${methods//,/ }; do
  out="$dir/merged-$method"
  rm -rf "$out"
  # shellcheck disable=SC2086
  /usr/bin/time -v -o "$dir/$method.time" dotnet "$worker" merge --method "$method" --base "$dir/base" $task_args --out "$out" >"$dir/$method.log" 2>&1
  python3 - "$dir/$method.time" "$out/report.json" "$inputs" "$read_rate" "$method" <<'PY'
import json, re, sys
timing, report, inputs, read_rate, method = open(sys.argv[1]).read(), json.load(open(sys.argv[2])), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", timing).group(1)) * 1024
h, m, s = (["0", "0"] + re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", timing).group(1).split(":"))[-3:]
wall = int(h) * 3600 + int(m) * 60 + float(s)
passes = {"ties": 4}.get(method, 1)
print(f"{method}: peak RSS {rss / 1e9:.2f} GB (sampled {report['memory']['measuredPeakBytes'] / 1e9:.2f} GB, estimate {report['memory']['estimatedPeakBytes'] / 1e9:.2f} GB), "
      f"wall {wall:.1f} s, {passes} read(s) of {inputs / 1e9:.2f} GB: {passes * inputs / wall / 1e9:.2f} GB/s = {passes * inputs / wall / 1e9 / read_rate:.2f} × cat; "
      f"phases {json.dumps({k: round(v, 1) for k, v in report['phaseSeconds'].items()})}")
PY
done
