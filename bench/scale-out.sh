#!/usr/bin/env bash
# Throughput of data-free merges with 1, 2 and 3 worker processes on this machine: hosts host-1..3 (distinct
# AdaMerging:HostId) on one embedded PostgreSQL and one DataRoot, each serving one CPU-queue slot; N task-arithmetic
# merges submitted at once per round, timed from the first POST until all have succeeded (docs/deployment.md).
#   bench/scale-out.sh [MERGES=60] [WIDTH=256] [LAYERS=4]
set -euo pipefail
cd "$(dirname "$0")/.."
merges=${1:-60}; width=${2:-256}; layers=${3:-4}
export AdaMerging__MaxActiveMergesPerOwner=100000 AdaMerging__RequestsPerSecondPerKey=100000
export AdaMerging__HostId=host-1 AdaMerging__WorkerCount=-1 AdaMerging__CpuWorkerCount=1 AdaMerging__Device=cpu
source bench/throwaway-service.sh 5094 scale
auth=(-H "X-Api-Key: $key")
dotnet "$bench" sample --out "$work/sample" --tasks 2 --width "$width" --layers "$layers" >/dev/null
base=$(post "$work/sample/base.safetensors" base)
t0=$(post "$work/sample/task1.safetensors" t1)
t1=$(post "$work/sample/task2.safetensors" t2)
body="{\"method\":\"task_arithmetic\",\"base\":\"$base\",\"tasks\":[{\"name\":\"a\",\"checkpoint\":\"$t0\"},{\"name\":\"b\",\"checkpoint\":\"$t1\"}]}"
succeeded() { curl -sf "${auth[@]}" "$url/merges?status=succeeded&limit=1" | sed 's/.*"total":\([0-9]*\).*/\1/'; }
alive() { curl -sf "$url/health/ready" | sed 's/.*"cpu":"\([0-9]*\)".*/\1/'; }
extra=()
echo "task arithmetic, 2 tasks, $(du -h "$work/sample/base.safetensors" | cut -f1) checkpoints, $merges merges per round, $(nproc) cores"
for n in 1 2 3; do
  if [ "$n" -gt 1 ]; then
    AdaMerging__HostId=host-$n dotnet "$worker" serve >"$work/worker-$n.log" 2>&1 & extra+=($!); pids+=($!)
  fi
  for _ in $(seq 1 60); do [ "$(alive)" = "$n" ] && break; sleep 1; done
  sleep 2
  before=$(succeeded)
  start=$(date +%s.%N)
  for i in $(seq 1 "$merges"); do curl -sf "${auth[@]}" -H "Content-Type: application/json" -d "$body" "$url/merges" >/dev/null; done
  until [ "$(( $(succeeded) - before ))" -ge "$merges" ]; do sleep 0.2; done
  end=$(date +%s.%N)
  python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); print(f'{sys.argv[3]} worker process(es): {int(sys.argv[4])} merges in {s:.1f} s = {int(sys.argv[4])/s:.2f} merges/s')" "$start" "$end" "$n" "$merges"
done
