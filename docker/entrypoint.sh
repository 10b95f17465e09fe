#!/bin/sh
# Entrypoint of the connector image: runs bin/main with Node's heap sized from the container's memory limit.
# Why: Node sizes its default heap from the machine's memory, not the container's, so under a memory limit
# a large sync is OOM-killed by the kernel instead of collecting garbage in time. 75% of the limit leaves
# room for buffers, code and the young generation. Prints nothing: stdout carries Airbyte messages only.
# An explicit --max-old-space-size in NODE_OPTIONS wins.
set -eu

memory_limit_bytes() {
  if [ -r /sys/fs/cgroup/memory.max ]; then                       # cgroup v2
    cat /sys/fs/cgroup/memory.max
  elif [ -r /sys/fs/cgroup/memory/memory.limit_in_bytes ]; then   # cgroup v1
    cat /sys/fs/cgroup/memory/memory.limit_in_bytes
  fi
}

heap_flag=""
case "${NODE_OPTIONS:-}" in
  *--max-old-space-size*) ;;
  *)
    limit=$(memory_limit_bytes 2>/dev/null || true)
    case "$limit" in
      '' | max | *[!0-9]*) ;; # no limit
      *)
        limit_mib=$((limit / 1048576))
        # cgroup v1 reports "no limit" as a number near 2^63; anything above 1 PiB is no limit.
        if [ "$limit_mib" -gt 0 ] && [ "$limit_mib" -lt 1073741824 ]; then
          heap_flag="--max-old-space-size=$((limit_mib * 75 / 100))"
        fi
        ;;
    esac
    ;;
esac

exec node $heap_flag /app/bin/main "$@"
