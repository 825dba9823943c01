#!/usr/bin/env bash
# The paper's table on a real ImageNet backbone (docs/reproduction.md, "ResNet-18"), through the real service: fetches
# the data and the ResNet-18 (bench/fetch-data.sh, bench/resnet18.sh: converted and checked against ONNX Runtime once),
# builds the benchmark (per task a linear probe on frozen ImageNet features, then the network fine-tuned with that head
# and its batch norms frozen; cached by its settings in data/resnet-benchmark), starts the API and a worker, uploads
# everything over HTTP, runs every method as a merge job and prints the table. Running statistics are merged
# (batchNormStatistics merge) except in the two rows that recompute them; RegMean solves the convolutions. BENCH_STEPS: AdaMerging's steps (default 100,
# what 2 cores afford: docs/reproduction.md); BENCH_METHODS: only these rows; BENCH_OUT: the results' file instead.
# Extra arguments go to the build.
#   bench/reproduce-resnet.sh [--seed N] …      results in data/resnet-benchmark/results-seed-N.md and .json
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/reproduction-inputs.sh "$@"
bench/resnet18.sh
echo "== building the ResNet-18 benchmark (cached in data/resnet-benchmark)"
dotnet build bench/AdaMerging.Benchmark -c Release -nologo -v q
benchmark_dll=bench/AdaMerging.Benchmark/bin/Release/net10.0/linux-x64/AdaMerging.Benchmark.dll
dir=$(dotnet "$benchmark_dll" resnet-build "$@" | tee >(cat >&2) | tail -n 1)

# ResNet's many mid-sized activations: under the worker's 1 MiB mmap threshold a step is 3.3× slower; the operator
# override for such models (docs/performance.md, "ResNet-18"), unless the caller set its own.
export MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD_:-16777216} MALLOC_TRIM_THRESHOLD_=${MALLOC_TRIM_THRESHOLD_:-67108864}
source scripts/service.sh benchmark
dotnet "$benchmark_dll" run --url "$url" --key "$key" --benchmark "$dir" --out "${BENCH_OUT:-data/resnet-benchmark/results-seed-$seed.md}" \
  --suite resnet --batch-norm-statistics merge --steps "${BENCH_STEPS:-100}" --merge-seed "$seed" ${BENCH_METHODS:+--methods "$BENCH_METHODS"}
