#!/usr/bin/env bash
# Streamed data-free merges of a Llama-shaped bfloat16 model in shards (issue 30; docs/performance.md, "Streamed
# merges"): writes the base and K tasks once (bench llama-checkpoints), then merges them with each method through the
# worker's `merge` command under GNU time, printing the peak resident memory, the wall time, the input read and the
# rate against the same machine's I/O floor: a sequential read of the same files (cat), a durable write of the
# output's bytes (dd with fsync), and both at once. As root, the page cache is dropped before each read so all start
# cold; else the cache is as the previous step left it. --memory-max runs each merge in a memory cgroup of that many bytes
# (bench/memory-capped.sh): a merge that needed more is killed.
#   bench/stream-merge.sh [--size 1b|300m|tiny] [--tasks 4] [--methods task_arithmetic,ties] [--memory-max 1500000000]
set -euo pipefail
cd "$(dirname "$0")/.."
size=1b tasks=4 methods=task_arithmetic,ties memory_max=
while [ $# -gt 0 ]; do
  case "$1" in
    --size) size=$2; shift 2 ;;
    --tasks) tasks=$2; shift 2 ;;
    --methods) methods=$2; shift 2 ;;
    --memory-max) memory_max=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
dotnet build bench/AdaMerging.Benchmark -c Release -nologo -v q >/dev/null
dotnet build AdaMerging.Worker -c Release -nologo -v q >/dev/null
dir=data/llama-$size-k$tasks
[ -f "$dir/task$tasks/config.json" ] || dotnet bench/AdaMerging.Benchmark/bin/Release/net10.0/linux-x64/AdaMerging.Benchmark.dll llama-checkpoints --out "$dir" --size "$size" --tasks "$tasks"
worker=AdaMerging.Worker/bin/Release/net10.0/linux-x64/AdaMerging.Worker.dll
inputs=$(du -cb "$dir"/base/*.safetensors $(for k in $(seq 1 "$tasks"); do echo "$dir/task$k/"*.safetensors; done) | tail -n 1 | cut -f1)
echo "model: $(du -cb "$dir"/base/*.safetensors | tail -n 1 | cut -f1) bytes; inputs (base + $tasks tasks): $inputs bytes"
cold() { if [ "$(id -u)" = 0 ]; then sync; echo 3 > /proc/sys/vm/drop_caches; fi; }
cold; start=$(date +%s.%N); cat "$dir"/base/*.safetensors "$dir"/task*/*.safetensors >/dev/null; end=$(date +%s.%N)
read_seconds=$(python3 -c "print($end - $start)")
model=$(du -cb "$dir"/base/*.safetensors | tail -n 1 | cut -f1)
start=$(date +%s.%N); dd if=/dev/zero of="$dir/write-floor" bs=1M count=$((model >> 20)) conv=fsync status=none; end=$(date +%s.%N); rm -f "$dir/write-floor"
write_seconds=$(python3 -c "print($end - $start)")
# Both at once, as a merge does them: a disk that cannot read and write side by side takes their sum.
cold; start=$(date +%s.%N)
cat "$dir"/base/*.safetensors "$dir"/task*/*.safetensors >/dev/null & dd if=/dev/zero of="$dir/write-floor" bs=1M count=$((model >> 20)) conv=fsync status=none; wait
end=$(date +%s.%N); rm -f "$dir/write-floor"
both_seconds=$(python3 -c "print($end - $start)")
echo "sequential read (cat$([ "$(id -u)" = 0 ] && echo ', cold')): $(python3 -c "print(round($inputs / $read_seconds / 1e9, 2))") GB/s ($(python3 -c "print(round($read_seconds, 1))") s); durable write of the output's bytes (dd, fsync): $(python3 -c "print(round($model / $write_seconds / 1e9, 2))") GB/s ($(python3 -c "print(round($write_seconds, 1))") s); both at once: $(python3 -c "print(round($both_seconds, 1))") s"
capped=(); [ -n "$memory_max" ] && capped=(bench/memory-capped.sh "$memory_max")
task_args=$(for k in $(seq 1 "$tasks"); do printf -- "--task %s " "$dir/task$k"; done)
for method in ${methods//,/ }; do
  out="$dir/merged-$method"
  rm -rf "$out"
  cold
  # shellcheck disable=SC2086
  "${capped[@]}" /usr/bin/time -v -o "$dir/$method.time" dotnet "$worker" merge --method "$method" --base "$dir/base" $task_args --out "$out" >"$dir/$method.log" 2>&1 \
    || { echo "$method: failed (exit $?; killed past --memory-max $memory_max bytes where 137); $dir/$method.log"; tail -n 3 "$dir/$method.log"; continue; }
  [ -n "$memory_max" ] && grep "memory cap" "$dir/$method.log"
  python3 - "$dir/$method.time" "$out/report.json" "$inputs" "$read_seconds" "$write_seconds" "$method" "$both_seconds" <<'PY'
import json, re, sys
timing, report, inputs, method = open(sys.argv[1]).read(), json.load(open(sys.argv[2])), int(sys.argv[3]), sys.argv[6]
read_seconds, write_seconds = float(sys.argv[4]), float(sys.argv[5])
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", timing).group(1)) * 1024
h, m, s = (["0", "0"] + re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", timing).group(1).split(":"))[-3:]
wall = int(h) * 3600 + int(m) * 60 + float(s)
passes = {"ties": 4}.get(method, 1)
floor = (passes - 1) * read_seconds + float(sys.argv[7])
print(f"{method}: peak RSS {rss / 1e9:.2f} GB (sampled {report['memory']['measuredPeakBytes'] / 1e9:.2f} GB, estimate {report['memory']['estimatedPeakBytes'] / 1e9:.2f} GB), "
      f"wall {wall:.1f} s, {passes} read(s) of {inputs / 1e9:.2f} GB: {passes * inputs / wall / 1e9:.2f} GB/s = {passes * read_seconds / wall:.2f} × cat alone, "
      f"{floor / wall:.2f} × the I/O floor ({passes} cat, the last beside the output's durable write: {floor:.1f} s); "
      f"phases {json.dumps({k: round(v, 1) for k, v in report['phaseSeconds'].items()})}")
PY
done
