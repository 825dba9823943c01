#!/usr/bin/env bash
# Runs the service locally on its embedded default (a private PostgreSQL cluster in ./data, started from the
# system's PostgreSQL programs), starts the API and a worker, submits a real task-arithmetic merge over HTTP,
# waits for it, downloads the merged model and checks it against the same merge run by the command line.
#   ADAMERGING_PORT=5080      port of the API
#   --keep-running            leave the service up afterwards (Ctrl-C stops it); /swagger shows the API
set -euo pipefail
cd "$(dirname "$0")/.."
keep_running=false
[ "${1:-}" = "--keep-running" ] && keep_running=true

scripts/prerequisites.sh postgres curl

url="http://127.0.0.1:${ADAMERGING_PORT:-5080}"
out=src/AdaMerging.Worker/bin/Release/net10.0/linux-x64
api=src/AdaMerging.Api/bin/Release/net10.0/linux-x64/AdaMerging.Api.dll
worker="$out/AdaMerging.Worker.dll"

echo "== building"
dotnet build src/AdaMerging.Api -c Release -nologo -v q
dotnet build src/AdaMerging.Worker -c Release -nologo -v q

mkdir -p data/logs data/sample
pids=()
stop() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  dotnet "$worker" db-stop >/dev/null 2>&1 || true
}
trap stop EXIT

echo "== starting the API on $url and a worker (logs in data/logs)"
dotnet "$api" --urls "$url" >data/logs/api.log 2>&1 & pids+=($!)
dotnet "$worker" serve >data/logs/worker.log 2>&1 & pids+=($!)
alive() {
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null && continue
    echo "a service process exited; the end of its logs:"; tail -n 15 data/logs/api.log data/logs/worker.log; exit 1
  done
}
for _ in $(seq 1 120); do
  alive
  curl -sf "$url/health/ready" >/dev/null 2>&1 && break
  sleep 1
done
curl -sf "$url/health/ready" >/dev/null || { echo "the API did not become ready; see data/logs/api.log"; tail -n 20 data/logs/api.log; exit 1; }

key=$(dotnet "$worker" keys create --owner demo)
echo "== created an API key for owner 'demo' (${key:0:10}…); every request below sends it as X-Api-Key"
auth=(-H "X-Api-Key: $key")

echo "== writing sample checkpoints: a random CLIP-ViT-shaped base and 4 fine-tuned variants"
dotnet "$worker" sample --out data/sample --tasks 4 --width 128 --layers 4 --seed 1

json() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p"; }
upload() { curl -sf "${auth[@]}" -H 'Content-Type: application/octet-stream' --data-binary "@$1" "$url/checkpoints?name=$(basename "$1")" | json id; }

echo "== uploading"
base=$(upload data/sample/base.safetensors)
tasks=""
for k in 1 2 3 4; do
  id=$(upload "data/sample/task$k.safetensors")
  tasks="$tasks${tasks:+,}{\"name\":\"task$k\",\"checkpoint\":\"$id\"}"
done
echo "base $base and 4 task checkpoints stored"

echo "== submitting task arithmetic, lambda 0.3"
request="{\"method\":\"task_arithmetic\",\"base\":\"$base\",\"tasks\":[$tasks],\"options\":{\"lambda\":0.3}}"
location=$(curl -sf "${auth[@]}" -D - -o /dev/null -H 'Content-Type: application/json' -d "$request" "$url/merges" | tr -d '\r' | sed -n 's/^Location: //Ip')
echo "accepted: $location"

status=queued
for _ in $(seq 1 600); do
  alive
  merge=$(curl -sf "${auth[@]}" "$url$location")
  status=$(echo "$merge" | json status)
  case "$status" in succeeded|failed|cancelled) break ;; esac
  sleep 0.2
done
echo "status: $status"
[ "$status" = succeeded ] || { echo "$merge"; exit 1; }

curl -sf "${auth[@]}" -o data/sample/merged-by-service.safetensors "$url$location/model"
dotnet "$worker" merge --base data/sample/base.safetensors \
  --task data/sample/task1.safetensors --task data/sample/task2.safetensors \
  --task data/sample/task3.safetensors --task data/sample/task4.safetensors \
  --lambda 0.3 --out data/sample/merged-locally >/dev/null
service_sha=$(sha256sum data/sample/merged-by-service.safetensors | cut -d' ' -f1)
local_sha=$(sha256sum data/sample/merged-locally/model.safetensors | cut -d' ' -f1)
dotnet "$worker" inspect data/sample/merged-by-service.safetensors
if [ "$service_sha" = "$local_sha" ]; then
  echo "the service's merged model is byte-identical to the command line's merge (sha256 $service_sha)"
else
  echo "MISMATCH: service $service_sha, command line $local_sha"
  exit 1
fi

if $keep_running; then
  echo "== the service keeps running at $url (OpenAPI UI at $url/swagger, API key $key); Ctrl-C stops it"
  wait
fi
