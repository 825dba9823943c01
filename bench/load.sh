#!/usr/bin/env bash
# Load on loopback, on a throw-away embedded cluster: 50 concurrent uploads, then 1000 merges queued at once (task
# arithmetic of a small random CLIP, so the queue and the database are what is measured), status polling at a fixed
# rate with wrk while they run; then checks that nothing was lost: 50 distinct checkpoints, 1000 merges succeeded.
#   bench/load.sh [UPLOADS=50] [JOBS=1000] [RATE=500]
set -euo pipefail
cd "$(dirname "$0")/.."
uploads=${1:-50}; jobs=${2:-1000}; rate=${3:-500}
export AdaMerging__MaxActiveMergesPerOwner=$((jobs + 10)) AdaMerging__RequestsPerSecondPerKey=100000
source bench/throwaway-service.sh 5094 load
dotnet "$bench" sample --out "$work/sample" --tasks "$uploads" --width 32 --layers 1 >/dev/null
base=$(post "$work/sample/base.safetensors" base)

start=$(date +%s.%N)
clients=()
for i in $(seq 1 "$uploads"); do post "$work/sample/task$i.safetensors" "t$i" >"$work/up$i" & clients+=($!); done
wait "${clients[@]}"
echo "$uploads concurrent uploads: $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}') s, $(for f in "$work"/up*; do cat "$f"; echo; done | sort -u | grep -c .) distinct checkpoint ids"
t1=$(cat "$work/up1"); t2=$(cat "$work/up2")
body="{\"method\":\"task_arithmetic\",\"base\":\"$base\",\"tasks\":[{\"name\":\"a\",\"checkpoint\":\"$t1\"},{\"name\":\"b\",\"checkpoint\":\"$t2\"}]}"

start=$(date +%s.%N)
clients=()
for i in $(seq 1 "$jobs"); do
  curl -s -H "X-Api-Key: $key" -H "Content-Type: application/json" -d "$body" "$url/merges" -o /dev/null -w "%{http_code}\n" >>"$work/submitted" & clients+=($!)
  if (( i % 50 == 0 )); then wait "${clients[@]}"; clients=(); fi   # 50 requests in flight at a time
done
if [ ${#clients[@]} -gt 0 ]; then wait "${clients[@]}"; fi
echo "$jobs merges submitted in $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}') s: $(sort "$work/submitted" | uniq -c | tr '\n' ' ')"
one=$(curl -sf -H "X-Api-Key: $key" "$url/merges?limit=1" | sed 's/.*"items":\[{"id":"\([^"]*\)".*/\1/')
connections=8
cat >"$work/status.lua" <<LUA
wrk.headers["X-Api-Key"] = "$key"
function delay() return math.max(0, math.floor(1000 * $connections / $rate) - 3) end  -- minus a typical 3 ms response
LUA
echo "GET /merges/{id} paced to $rate requests/s for 20 s while the queue drains:"
wrk -t 2 -c "$connections" -d 20s --latency -s "$work/status.lua" "$url/merges/$one" | sed 's/^/  /'
for _ in $(seq 1 900); do
  left=$(curl -sf -H "X-Api-Key: $key" "$url/merges?status=queued&limit=1" | sed 's/.*"total":\([0-9]*\).*/\1/')
  running=$(curl -sf -H "X-Api-Key: $key" "$url/merges?status=running&limit=1" | sed 's/.*"total":\([0-9]*\).*/\1/')
  [ "$left" = 0 ] && [ "$running" = 0 ] && break
  sleep 1
done
done_at=$(date +%s.%N)
succeeded=$(curl -sf -H "X-Api-Key: $key" "$url/merges?status=succeeded&limit=1" | sed 's/.*"total":\([0-9]*\).*/\1/')
failed=$(curl -sf -H "X-Api-Key: $key" "$url/merges?status=failed&limit=1" | sed 's/.*"total":\([0-9]*\).*/\1/')
echo "queue drained in $(awk -v a="$start" -v b="$done_at" 'BEGIN{printf "%.0f", b-a}') s after the first submission: $succeeded succeeded, $failed failed, of $jobs"
[ "$succeeded" = "$jobs" ]
