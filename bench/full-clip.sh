#!/usr/bin/env bash
# A ViT-B/32-shaped full CLIP (random weights, ~151 M parameters) with eight vision-only task checkpoints through a
# throw-away service: upload, one zero-shot head per task from class names with the official templates, task
# arithmetic and 2 steps of layer-wise AdaMerging (batch 16 per task); times and peak memory (docs/performance.md).
#   bench/full-clip.sh [TASKS=8]
set -euo pipefail
cd "$(dirname "$0")/.."
tasks=${1:-8}
source bench/throwaway-service.sh 5094 fullclip
dotnet "$bench" sample-full-clip --out "$work/fullclip" --tasks "$tasks" --tokenizer AdaMerging.Tests/Fixtures/clip_text
dotnet "$bench" full-clip --url "$url" --key "$key" --dir "$work/fullclip" --tasks "$tasks" --api-pid "${pids[0]}" --worker-pid "${pids[1]}"
