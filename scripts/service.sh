# Sourced by demo.sh and bench/reproduce.sh: builds the API and the worker, starts them on the embedded default
# (a private PostgreSQL cluster in ./data), waits until the API is ready and creates an API key for $1.
# Sets: url, key, worker, pids; stops everything on exit.
scripts/prerequisites.sh postgres curl

url="http://127.0.0.1:${ADAMERGING_PORT:-5080}"
out=AdaMerging.Worker/bin/Release/net10.0/linux-x64
api=AdaMerging.Api/bin/Release/net10.0/linux-x64/AdaMerging.Api.dll
worker="$out/AdaMerging.Worker.dll"

echo "== building the service"
dotnet build AdaMerging.Api -c Release -nologo -v q
dotnet build AdaMerging.Worker -c Release -nologo -v q

mkdir -p data/logs
# The one-machine default: no ConnectionStrings__Postgres, so a private cluster under ./data (never implicit: docs/deployment.md).
export AdaMerging__EmbeddedDatabase=true
pids=()
stop() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  dotnet "$worker" db-stop >/dev/null 2>&1 || true
}
trap stop EXIT

echo "== starting the API on $url and a worker (logs in data/logs)"
dotnet "$api" --urls "$url" >data/logs/api.log 2>&1 & pids+=($!)
dotnet "$worker" serve >data/logs/worker.log 2>&1 & pids+=($!)
alive() {
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null && continue
    echo "a service process exited; the end of its logs:"; tail -n 15 data/logs/api.log data/logs/worker.log; exit 1
  done
}
for _ in $(seq 1 120); do
  alive
  curl -sf "$url/health/ready" >/dev/null 2>&1 && break
  sleep 1
done
curl -sf "$url/health/ready" >/dev/null || { echo "the API did not become ready; see data/logs/api.log"; tail -n 20 data/logs/api.log; exit 1; }

key=$(dotnet "$worker" keys create --owner "$1")
echo "== created an API key for owner '$1' (${key:0:10}…); every request sends it as X-Api-Key"
