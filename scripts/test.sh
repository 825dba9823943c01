#!/usr/bin/env bash
# Runs every test: the xunit suite (against a real PostgreSQL the fixture starts itself), then validates
# docker-compose.yml with docker-compose and lints the Dockerfile with dockerfile-utils. No Docker engine is needed.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/prerequisites.sh postgres compose node fonts

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
status=0
dotnet test AdaMerging.slnx -c Release --logger "trx;LogFileName=tests.trx" --results-directory "$results" || status=$?
trx=$(find "$results" -name tests.trx | head -n 1)
counter() { grep -o "<Counters [^>]*" "$trx" | grep -o " $1=\"[0-9]*\"" | grep -o "[0-9]*"; }
passed=$(counter passed || echo 0)
failed=$(counter failed || echo 0)
[ -n "$trx" ] || { echo "dotnet test produced no results"; failed=$((failed + 1)); }

echo "== docker-compose config -q"
if docker-compose -f docker-compose.yml config -q; then passed=$((passed + 1)); echo "compose file valid"; else failed=$((failed + 1)); fi

echo "== dockerfile-utils lint Dockerfile"
if npx --yes dockerfile-utils@0.16.3 lint Dockerfile; then passed=$((passed + 1)); echo "Dockerfile lint clean"; else failed=$((failed + 1)); fi

echo "test.sh: $passed passed, $failed failed"
[ "$status" = 0 ] && [ "$failed" = 0 ]
