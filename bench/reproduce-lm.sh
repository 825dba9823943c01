#!/usr/bin/env bash
# Learned merging of language models on a model pre-trained here (docs/reproduction.md, "Language models"): fetches the
# offline text (bench/fetch-text-data.sh), pre-trains a byte-level Llama on general text and fine-tunes it on four
# distinct corpora with three seeds (tools/train_tiny_lm.py, cached in data/lm), then for each seed merges the four
# experts with task arithmetic, TIES, TSV-M and AdaMerging under each objective through the worker's `run` (the
# queued job's code path), and prints each task's completion perplexity per method, mean and range over the seeds.
# BENCH_STEPS: AdaMerging's steps (default 200); BENCH_SEEDS (default 3).
#   bench/reproduce-lm.sh        results in data/lm/results.md
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/prerequisites.sh torch
bench/fetch-text-data.sh
seeds=${BENCH_SEEDS:-3}
steps=${BENCH_STEPS:-200}
echo "== pre-training and fine-tuning (cached in data/lm)"
/usr/bin/python3 tools/train_tiny_lm.py data/text/raw data/lm --seeds "$seeds"
dotnet build AdaMerging.Worker -c Release -nologo -v q
worker=AdaMerging.Worker/bin/Release/net10.0/linux-x64/AdaMerging.Worker
declare -A methods=(
  [task_arithmetic]='"task_arithmetic", "options": {}'
  [ties]='"ties", "options": {}'
  [tsv_m]='"tsv", "options": {}'
  [adamerging_entropy]="\"adamerging\", \"options\": {\"objective\": \"entropy\", \"steps\": $steps, \"batchSize\": 16, \"maxSequenceLength\": 128}"
  [adamerging_expert_kl]="\"adamerging\", \"options\": {\"objective\": \"expert_kl\", \"steps\": $steps, \"batchSize\": 16, \"maxSequenceLength\": 128}"
)
tasks=(fortunes cmudict french german)
for seed in $(seq 0 $((seeds - 1))); do
  for label in task_arithmetic ties tsv_m adamerging_entropy adamerging_expert_kl; do
    run=data/lm/runs/seed$seed/$label
    [ -f "$run/out/report.json" ] && continue
    rm -rf "$run"; mkdir -p "$run"
    entries=()
    for t in "${tasks[@]}"; do
      entries+=("{\"name\": \"$t\", \"checkpoint\": \"../../../seed$seed/$t\", \"adaptationData\": \"../../../data/$t/adaptation.jsonl\", \"evaluationData\": \"../../../data/$t/evaluation.jsonl\"}")
    done
    method=${methods[$label]}
    method=${method/\"options\": \{/\"options\": \{\"seed\": $seed, }
    [[ $label == adamerging* ]] || method=${methods[$label]}
    (IFS=,; echo "{\"method\": $method, \"base\": \"../../../base\", \"tasks\": [${entries[*]}]}") > "$run/request.json"
    echo "== seed $seed, $label"
    "$worker" run "$run/request.json" --out "$run/out" --device cpu | tail -n 6
  done
done
/usr/bin/python3 bench/lm_table.py data/lm/runs | tee data/lm/results.md
