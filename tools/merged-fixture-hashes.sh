#!/usr/bin/env bash
# Every method's merged model on the committed PyTorch fixtures, through the worker's `run` (the queued job's code
# path), with the sha256 of each merged file. A refactoring that claims to move code without changing it shows the
# same lines before and after (docs/algorithm.md, "Architectures"). Run from the repository root after a build:
#   tools/merged-fixture-hashes.sh [WORKER_DLL]
set -euo pipefail
cd "$(dirname "$0")/.."
worker=${1:-AdaMerging.Worker/bin/Release/net10.0/linux-x64/AdaMerging.Worker.dll}
fixtures=$PWD/AdaMerging.Tests/Fixtures
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

# The tiny CLIP's base folder (Hugging Face layout with config.json) and the RegMean fixture's three fine-tuned
# encoders of it; each task's images from the RegMean fixture as a labeled tensor dataset for the clip_tiny head.
mkdir -p "$work/base"
cp "$fixtures/clip_tiny/model.safetensors" "$fixtures/clip_tiny/config.json" "$work/base/"
python3 - "$fixtures/regmean/images.safetensors" "$work" <<'EOF'
import json, struct, sys
src, out = sys.argv[1], sys.argv[2]
with open(src, "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]; header = json.loads(f.read(n)); data = f.read()
for k in range(3):
    e = header[f"task{k}"]; pixels = data[e["data_offsets"][0]:e["data_offsets"][1]]; rows = e["shape"][0]
    labels = struct.pack(f"<{rows}q", *[(r + k) % 5 for r in range(rows)])
    h = {"pixel_values": {"dtype": "F32", "shape": e["shape"], "data_offsets": [0, len(pixels)]},
         "labels": {"dtype": "I64", "shape": [rows], "data_offsets": [len(pixels), len(pixels) + len(labels)]}}
    raw = json.dumps(h, separators=(",", ":")).encode(); raw += b" " * ((8 - len(raw) % 8) % 8)
    with open(f"{out}/data{k}.safetensors", "wb") as f: f.write(struct.pack("<Q", len(raw)) + raw + pixels + labels)
EOF

clip_tasks() {
  local sep=""
  for k in 0 1 2; do
    printf '%s{"name":"t%d","checkpoint":"%s/regmean/task%d.safetensors","head":"%s/clip_tiny/head.safetensors","adaptationData":"%s/data%d.safetensors","evaluationData":"%s/data%d.safetensors"}' \
      "$sep" "$k" "$fixtures" "$k" "$fixtures" "$work" "$k" "$work" "$k"
    sep=","
  done
}
spectral_tasks() { printf '{"name":"t%d","checkpoint":"%s/spectral/task%d.safetensors"},' 0 "$fixtures" 0 1 "$fixtures" 1 2 "$fixtures" 2 | sed 's/,$//'; }

run() {   # label, method, base, tasks JSON, options JSON
  printf '{"method":"%s","base":"%s","tasks":[%s],"options":%s}' "$2" "$3" "$4" "$5" > "$work/$1.json"
  dotnet "$worker" run "$work/$1.json" --out "$work/$1" --device cpu >/dev/null
  for f in "$work/$1"/model*.safetensors "$work/$1"/config.json; do
    if [ -f "$f" ]; then echo "$1 $(basename "$f") $(sha256sum "$f" | cut -d" " -f1)"; fi
  done
}

for m in weight_averaging task_arithmetic ties dare tsv iso_c iso_cts; do
  run "spectral-$m" "$m" "$fixtures/spectral/base.safetensors" "$(spectral_tasks)" '{}'
  run "clip-$m" "$m" "$work/base" "$(clip_tasks)" '{}'
done
run clip-regmean regmean "$work/base" "$(clip_tasks)" '{}'
run clip-adamerging-task adamerging "$work/base" "$(clip_tasks)" '{"granularity":"task","steps":5,"batchSize":8}'
run clip-adamerging-layer adamerging "$work/base" "$(clip_tasks)" '{"granularity":"layer","steps":5,"batchSize":8}'
run clip-adamerging-block adamerging "$work/base" "$(clip_tasks)" '{"granularity":"layer","layerUnit":"block","steps":5,"batchSize":8,"checkpointing":true}'
run clip-adamerging-plus adamerging "$work/base" "$(clip_tasks)" '{"granularity":"layer","plus":true,"steps":5,"batchSize":8}'
# open_clip bases come out in Hugging Face layout (the tiny vision tower; the full CLIP with its text tower and CLIPConfig).
for oc in clip_tiny clip_text; do
  run "openclip-$oc" task_arithmetic "$fixtures/$oc/open_clip.safetensors" \
    "{\"name\":\"a\",\"checkpoint\":\"$fixtures/$oc/open_clip.safetensors\"},{\"name\":\"b\",\"checkpoint\":\"$fixtures/$oc/open_clip.safetensors\"}" '{}'
done
