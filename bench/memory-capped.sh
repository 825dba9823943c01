#!/usr/bin/env bash
# Runs a command under a hard memory limit: a memory cgroup (v2's memory.max, else v1's memory.limit_in_bytes, swap
# barred as well where the kernel counts it) that the kernel's OOM killer enforces, so a run that needed more than the
# limit is killed, not slowed. Page cache is charged to the group too, but reclaimed under the limit: only memory the
# process cannot give back (its heap, tensors, buffers) kills it. Prints the group's peak (page cache included) and
# whether the OOM killer acted; exits with the command's status (137 when killed).
#   bench/memory-capped.sh <limit bytes> <command> [arguments...]
set -euo pipefail
limit=$1; shift
name=adamerging-capped-$$
if grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
  cg=/sys/fs/cgroup/$name; mkdir "$cg"
  echo "$limit" > "$cg/memory.max"; echo 0 > "$cg/memory.swap.max" 2>/dev/null || true
  peak_file=$cg/memory.peak; kills() { awk '/^oom_kill /{print $2}' "$cg/memory.events"; }
elif [ -d /sys/fs/cgroup/memory ]; then
  cg=/sys/fs/cgroup/memory/$name; mkdir "$cg"
  echo "$limit" > "$cg/memory.limit_in_bytes"
  [ -f "$cg/memory.memsw.limit_in_bytes" ] && echo "$limit" > "$cg/memory.memsw.limit_in_bytes"
  peak_file=$cg/memory.max_usage_in_bytes; kills() { awk '/^oom_kill /{print $2}' "$cg/memory.oom_control"; }
else
  echo "no memory cgroup to write here (neither cgroup v2 with the memory controller nor v1's /sys/fs/cgroup/memory)" >&2; exit 2
fi
cleanup() { rmdir "$cg" 2>/dev/null || true; }
trap cleanup EXIT
status=0
( echo "$BASHPID" > "$cg/cgroup.procs"; exec "$@" ) || status=$?
echo "memory cap $limit bytes: group peak $(cat "$peak_file" 2>/dev/null || echo '?') bytes (page cache included), OOM kills $(kills || echo '?'), exit $status" >&2
exit "$status"
