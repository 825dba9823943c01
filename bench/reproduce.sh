#!/usr/bin/env bash
# Reproduces the paper's table on real data through the real service: fetches MNIST, Fashion-MNIST and the 8×8
# digits once, builds the benchmark (pre-trained base, 8 fine-tuned encoders, frozen heads, test sets; cached by
# its settings), starts the API and a worker, uploads everything over HTTP, runs every method as a merge job and
# prints the table, then the generalisation check (λ learned without BENCH_HELD_OUT, default mnist_inverted and
# fashion_coarse; BENCH_HELD_OUT= skips it). Extra arguments go to the build (e.g. --seed 2); BENCH_RUN_ARGS to the
# run (e.g. "--merge-seed 3"); BENCH_METHODS a comma-separated list of the table's row labels to run only those.
#   bench/reproduce.sh [--seed N] …      results in data/benchmark/results-seed-N.md and .json
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/reproduction-inputs.sh "$@"
echo "== building the benchmark (cached in data/benchmark)"
dotnet build bench/AdaMerging.Benchmark -c Release -nologo -v q
benchmark_dll=bench/AdaMerging.Benchmark/bin/Release/net10.0/linux-x64/AdaMerging.Benchmark.dll
# tee >(cat >&2), not tee /dev/stderr: when stderr is a file, tee reopens /dev/stderr and truncates what came before.
dir=$(dotnet "$benchmark_dll" build "$@" | tee >(cat >&2) | tail -n 1)

source scripts/service.sh benchmark
# shellcheck disable=SC2086
dotnet "$benchmark_dll" run --url "$url" --key "$key" --benchmark "$dir" --out "data/benchmark/results-seed-$seed.md" \
  --held-out "${BENCH_HELD_OUT-mnist_inverted,fashion_coarse}" ${BENCH_METHODS:+--methods "$BENCH_METHODS"} ${BENCH_RUN_ARGS:-}
