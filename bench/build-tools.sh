# Sourced by the benchmark scripts: builds the API, the worker and the benchmark tool (Release) and sets api, worker
# and bench to their entry assemblies, and work to a fresh temp folder the embedded cluster may use.
dotnet build AdaMerging.Api -c Release -nologo -v q >/dev/null
dotnet build AdaMerging.Worker -c Release -nologo -v q >/dev/null
dotnet build bench/AdaMerging.Benchmark -c Release -nologo -v q >/dev/null
api=AdaMerging.Api/bin/Release/net10.0/linux-x64/AdaMerging.Api.dll
worker=AdaMerging.Worker/bin/Release/net10.0/linux-x64/AdaMerging.Worker.dll
bench=bench/AdaMerging.Benchmark/bin/Release/net10.0/linux-x64/AdaMerging.Benchmark.dll
work=$(mktemp -d /tmp/adamerging-bench.XXXXXX)
chmod 755 "$work" # the embedded cluster runs as postgres when we are root
