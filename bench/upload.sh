#!/usr/bin/env bash
# Upload throughput and the API's peak RSS for a large checkpoint, against copying and hashing the same file in
# the same run. Runs the API on a throw-away embedded cluster; loopback only.
#   bench/upload.sh [GB]        (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
gb=${1:-2}
scripts/prerequisites.sh postgres curl
source bench/build-tools.sh
api_pid=""
cleanup() {
  [ -n "$api_pid" ] && kill "$api_pid" 2>/dev/null && wait "$api_pid" 2>/dev/null || true
  dotnet "$worker" db-stop --data "$work/data" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
keep_log() { cp "$work/api.log" /tmp/bench-api.log 2>/dev/null || true; }
trap "keep_log; cleanup" EXIT

dotnet "$bench" make-checkpoint --out "$work/big.safetensors" --gb "$gb"
bytes=$(stat -c %s "$work/big.safetensors")
mb() { awk -v b="$bytes" -v s="$1" 'BEGIN { printf "%.0f", b / 1e6 / s }'; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

export AdaMerging__EmbeddedDatabase=true # a throw-away cluster under $work/data
AdaMerging__DataRoot="$work/data" dotnet "$api" \
  --urls http://127.0.0.1:5091 >"$work/api.log" 2>&1 & api_pid=$!
for _ in $(seq 1 60); do curl -sf http://127.0.0.1:5091/health/ready >/dev/null 2>&1 && break; sleep 1; done

key=$(AdaMerging__DataRoot="$work/data" dotnet "$worker" keys create --owner bench)
mkdir -p "$work/data/copy"
t0=$(now); cp "$work/big.safetensors" "$work/data/copy/big"; sync -f "$work/data/copy/big"; t1=$(now)
copy=$(elapsed "$t0" "$t1"); rm "$work/data/copy/big"
t0=$(now); sha256sum "$work/big.safetensors" >/dev/null; t1=$(now); hash=$(elapsed "$t0" "$t1")

rss_before=$(awk '/VmRSS/ {print $2}' "/proc/$api_pid/status")
echo 5 > "/proc/$api_pid/clear_refs"
t0=$(now)
curl -sf -X POST -H "X-Api-Key: $key" -H "Content-Type: application/octet-stream" -T "$work/big.safetensors" \
  "http://127.0.0.1:5091/checkpoints?name=big" -o "$work/response.json"
t1=$(now); upload=$(elapsed "$t0" "$t1")
peak=$(awk '/VmHWM/ {print $2}' "/proc/$api_pid/status")

echo "file: $((bytes / 1000000)) MB"
echo "cp + fsync of the same file: ${copy} s = $(mb "$copy") MB/s"
echo "sha256sum of the same file:  ${hash} s = $(mb "$hash") MB/s"
echo "upload (streamed to disk while hashed, fsync, header check, NaN scan, rename): ${upload} s = $(mb "$upload") MB/s" \
  "= $(awk -v u="$upload" -v c="$copy" 'BEGIN { printf "%.2f", c / u }')× cp's rate"
echo "API RSS before: $((rss_before / 1024)) MB; peak during the upload: $((peak / 1024)) MB" \
  "(+$(((peak - rss_before) / 1024)) MB for a $((bytes / 1000000)) MB upload)"
grep -o '"tensorCount":[0-9]*' "$work/response.json"
