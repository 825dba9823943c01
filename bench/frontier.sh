#!/usr/bin/env bash
# The learned-merging frontier of issue 32 through the real service: task arithmetic, TSV-M and layer-wise AdaMerging
# as the references, then WUDI, AdaRank (over task arithmetic, CART and TSV-M's parts; 500 steps, AdaMerging's budget)
# and AdaMerging over TSV-M's parts with λ allowed to 2 (projected), Iso-CTS and AdaRank over it, on one build of the
# benchmark. BENCH_METHODS: only these rows (labels, comma-separated); BENCH_OUT: the results' file instead.
#   bench/frontier.sh [--seed N]           the 8-task benchmark of bench/reproduce.sh (results in data/benchmark/frontier-seed-N.md)
#   bench/frontier.sh --demo [--seed N]    the three-task slice scripts/demo.sh builds (width 64, 4 layers; minutes, not an hour)
set -euo pipefail
cd "$(dirname "$0")/.."
demo=false
args=()
for a in "$@"; do if [ "$a" = --demo ]; then demo=true; else args+=("$a"); fi; done
source bench/reproduction-inputs.sh "${args[@]}"
dotnet build bench/AdaMerging.Benchmark -c Release -nologo -v q
benchmark_dll=bench/AdaMerging.Benchmark/bin/Release/net10.0/linux-x64/AdaMerging.Benchmark.dll
if $demo; then
  tasks=(--tasks mnist,fashion,digits)
  dir=$(dotnet "$benchmark_dll" build "${args[@]}" "${tasks[@]}" --width 64 --layers 4 --glyphs 30000 --pretrain-steps 1200 \
    --finetune-steps 200 --finetune-lr 1e-4 --test-images 500 | tee >(cat >&2) | tail -n 1)
  results="data/benchmark/frontier-demo-seed-$seed.md"
else
  tasks=()
  dir=$(dotnet "$benchmark_dll" build "${args[@]}" | tee >(cat >&2) | tail -n 1)
  results="data/benchmark/frontier-seed-$seed.md"
fi
source scripts/service.sh frontier
methods="task arithmetic,TSV-M,layer-wise AdaMerging,WUDI,AdaRank (task arithmetic),AdaRank (CART),AdaRank over TSV-M parts"
methods+=",task-wise AdaMerging over TSV-M parts up to λ 2 (projected),layer-wise AdaMerging over TSV-M parts up to λ 2 (projected)"
methods+=",Iso-CTS,AdaRank over Iso-CTS"
dotnet "$benchmark_dll" run --url "$url" --key "$key" --benchmark "$dir" "${tasks[@]}" --out "${BENCH_OUT:-$results}" --held-out "" \
  --methods "${BENCH_METHODS:-$methods}"
