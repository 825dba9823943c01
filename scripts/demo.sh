#!/usr/bin/env bash
# Runs the service locally on its embedded default (a private PostgreSQL cluster in ./data, started from the
# system's PostgreSQL programs) and submits real merges on real data: a three-task slice of the reproduction
# benchmark (MNIST, Fashion-MNIST, 8×8 digits; a small CLIP ViT pre-trained here on rendered letters, one encoder
# fine-tuned per task). It uploads everything over HTTP, runs task arithmetic and layer-wise AdaMerging (a few dozen
# steps) through the queue and the worker, prints the accuracy table and checks that the service's task-arithmetic
# model is byte-identical to the same merge run by the command line.
#   ADAMERGING_PORT=5080      port of the API
#   --keep-running            leave the service up afterwards (Ctrl-C stops it): the web page at /ui/, the API at /swagger
set -euo pipefail
cd "$(dirname "$0")/.."
keep_running=false
[ "${1:-}" = "--keep-running" ] && keep_running=true

bench/fetch-data.sh
scripts/prerequisites.sh fonts
echo "== building a three-task slice of the benchmark (cached in data/benchmark; about five minutes the first time on two cores)"
dotnet build bench/AdaMerging.Benchmark -c Release -nologo -v q
benchmark_dll=bench/AdaMerging.Benchmark/bin/Release/net10.0/linux-x64/AdaMerging.Benchmark.dll
tasks=mnist,fashion,digits
# tee >(cat >&2), not tee /dev/stderr: when stderr is a file, tee reopens /dev/stderr and truncates what came before.
dir=$(dotnet "$benchmark_dll" build --tasks "$tasks" --width 64 --layers 4 --glyphs 30000 --pretrain-steps 1200 \
  --finetune-steps 200 --finetune-lr 1e-4 --test-images 500 | tee >(cat >&2) | tail -n 1)

source scripts/service.sh demo

echo "== uploading the slice and running task arithmetic and layer-wise AdaMerging (40 steps) through the service"
dotnet "$benchmark_dll" run --url "$url" --key "$key" --benchmark "$dir" --tasks "$tasks" --steps 40 \
  --methods "task arithmetic,layer-wise AdaMerging" | tee data/logs/demo-run.log

ta=$(sed -n 's/^task arithmetic: merge \/merges\/\([0-9a-f-]*\),.*/\1/p' data/logs/demo-run.log)
curl -sf -H "X-Api-Key: $key" -o data/logs/merged-by-service.safetensors "$url/merges/$ta/model"
dotnet "$worker" merge --base "$dir/base/model.safetensors" --task "$dir/tasks/mnist/model.safetensors" \
  --task "$dir/tasks/fashion/model.safetensors" --task "$dir/tasks/digits/model.safetensors" \
  --lambda 0.3 --out data/logs/merged-locally >/dev/null
service_sha=$(sha256sum data/logs/merged-by-service.safetensors | cut -d' ' -f1)
local_sha=$(sha256sum data/logs/merged-locally/model.safetensors | cut -d' ' -f1)
if [ "$service_sha" = "$local_sha" ]; then
  echo "the service's task-arithmetic model is byte-identical to the command line's merge (sha256 ${service_sha:0:8}…)"
else
  echo "MISMATCH: service $service_sha, command line $local_sha"
  exit 1
fi
echo "the benchmark's files: $dir (base/, tasks/, heads/, datasets/, build.json); every merge's files: $url/merges/{id}/archive"

if $keep_running; then
  echo "== the service keeps running at $url; Ctrl-C stops it"
  echo "   web page: $url/ui/ (sign in with the API key $key; the demo's merges are under Merges)"
  echo "   OpenAPI UI: $url/swagger"
  wait
fi
