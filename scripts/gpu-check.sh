#!/usr/bin/env bash
# What an operator runs on a new worker host before it takes merges (docs/deployment.md, "Checking a host"):
#   scripts/gpu-check.sh [--device all|cpu|cuda:N] [--size vit-b-32|small|tiny|vit-l-14] [--tasks 8] [--batch 16] [--steps 3]
# For every device (default: each visible GPU, else the CPU) the worker's check-device compares the engine with the
# PyTorch reference fixtures and with the CPU within stated tolerances, times a layer-wise AdaMerging step of the
# given shape (ViT-B/32 by default) and reports the memory it held. Exits non-zero when any comparison fails.
# In the worker image:  docker compose run --rm --entrypoint /app/gpu-check.sh gpu-worker
# In a checkout it builds the worker first; CI runs it on the CPU (scripts/test.sh), so it cannot rot.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

if [ -n "${ADAMERGING_WORKER_DLL:-}" ]; then
  worker="$ADAMERGING_WORKER_DLL"
elif [ -f "$here/AdaMerging.Worker.dll" ]; then
  worker="$here/AdaMerging.Worker.dll"                      # beside it in the worker image
else
  root="$(cd "$here/.." && pwd)"
  echo "== building the worker"
  dotnet build "$root/AdaMerging.Worker" -c Release -nologo -v q ${TORCH_BACKEND:+-p:TorchBackend=$TORCH_BACKEND}
  worker="$root/AdaMerging.Worker/bin/Release/net10.0/linux-x64/AdaMerging.Worker.dll"
fi

echo "== host $(cat /proc/sys/kernel/hostname): $(nproc) CPU threads, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=index,name,driver_version,memory.used,memory.total --format=csv
else
  echo "no nvidia-smi: no NVIDIA GPU (or its utilities) visible here"
fi
exec dotnet "$worker" check-device "$@"
