#!/usr/bin/env bash
# The service's own latencies on loopback, on a throw-away embedded cluster:
#   1. enqueue → start: N small merges submitted one after another; each job's startedAt − createdAt (stamped by
#      the API on POST and by the worker when it picks the job up, same clock).
#   2. GET /merges/{id} at a fixed rate (default 500 requests/s) with wrk (Debian package), bounded in time.
#   bench/service-latency.sh [JOBS=20] [RATE=500] [SECONDS=20]
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${1:-20}; rate=${2:-500}; seconds=${3:-20}
source bench/throwaway-service.sh 5093 latency
auth=(-H "X-Api-Key: $key")
dotnet "$bench" sample --out "$work/sample" --tasks 2 --width 32 --layers 1 >/dev/null
base=$(post "$work/sample/base.safetensors" base)
t0=$(post "$work/sample/task1.safetensors" t1)
t1=$(post "$work/sample/task2.safetensors" t2)
body="{\"method\":\"task_arithmetic\",\"base\":\"$base\",\"tasks\":[{\"name\":\"a\",\"checkpoint\":\"$t0\"},{\"name\":\"b\",\"checkpoint\":\"$t1\"}]}"
sleep 3 # let the worker finish starting: the first job should not measure its start-up
: >"$work/latency"
for i in $(seq 1 "$jobs"); do
  id=$(curl -sf "${auth[@]}" -H "Content-Type: application/json" -d "$body" "$url/merges" | sed 's/.*"id":"\([^"]*\)".*/\1/')
  for _ in $(seq 1 600); do
    status=$(curl -sf "${auth[@]}" "$url/merges/$id")
    case "$status" in *'"status":"succeeded"'*|*'"status":"failed"'*) break ;; esac
    sleep 0.05
  done
  python3 -c 'import json,sys,datetime as d
j=json.loads(sys.argv[1]); f=lambda s: d.datetime.fromisoformat(s.replace("Z","+00:00"))
print((f(j["startedAt"])-f(j["createdAt"])).total_seconds()*1000)' "$status" >>"$work/latency"
done
python3 - "$work/latency" <<'PY'
import sys, statistics
v = sorted(float(x) for x in open(sys.argv[1]))
print(f"enqueue → start over {len(v)} jobs: median {statistics.median(v):.1f} ms, max {v[-1]:.1f} ms, min {v[0]:.1f} ms")
PY

# wrk runs at its connections' full speed; a per-request delay of connections/rate seconds (less a typical response
# time) holds it near the rate; the achieved rate is what wrk reports as Requests/sec.
connections=8
cat >"$work/status.lua" <<LUA
wrk.method = "GET"
wrk.headers["X-Api-Key"] = "$key"
function delay() return math.max(0, math.floor(1000 * $connections / $rate) - 3) end  -- minus a typical 3 ms response
LUA
echo "GET /merges/{id}, $connections connections paced to $rate requests/s for ${seconds} s (wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}')):"
wrk -t 2 -c "$connections" -d "${seconds}s" --latency -s "$work/status.lua" "$url/merges/$id" | sed 's/^/  /'
