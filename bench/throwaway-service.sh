# Sourced by the service benchmarks: builds the API and the worker and starts both on a throw-away embedded cluster
# in a temp folder (removed on exit), on loopback port $1, with an API key for owner $2. Settings come from the
# caller's environment (AdaMerging__…). Sets: work, worker, bench (the benchmark tool), url, key, pids; defines post FILE NAME (→ checkpoint id).
scripts/prerequisites.sh postgres curl wrk
source bench/build-tools.sh
url=http://127.0.0.1:$1
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  dotnet "$worker" db-stop --data "$work/data" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
export AdaMerging__DataRoot="$work/data"
export AdaMerging__EmbeddedDatabase=true
dotnet "$api" --urls "$url" >"$work/api.log" 2>&1 & pids+=($!)
for _ in $(seq 1 60); do curl -sf "$url/health/ready" >/dev/null 2>&1 && break; sleep 1; done
dotnet "$worker" serve >"$work/worker.log" 2>&1 & pids+=($!)
key=$(dotnet "$worker" keys create --owner "$2")
post() { curl -sf -H "X-Api-Key: $key" -X POST -H "Content-Type: application/octet-stream" -T "$1" "$url/checkpoints?name=$2" | sed 's/.*"id":"\([^"]*\)".*/\1/'; }
