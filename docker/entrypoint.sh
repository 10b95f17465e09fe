#!/bin/sh
# Entrypoint of the connector image: runs bin/main with Node's heap sized from the container's memory limit.
# Why: left alone, Node 20 picks a heap of about half the limit (259 MiB under --memory=512m), and a
# Node that does not read the cgroup sizes it for the machine, which the kernel OOM-kills before V8
# collects garbage. 75% of the limit uses the memory the container is given and leaves a quarter for
# buffers, code and the young generation, whatever the Node version. Prints nothing: stdout carries
# Airbyte messages only. An explicit --max-old-space-size in NODE_OPTIONS wins.
set -u

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

# Not `exec`: Node as PID 1 would ignore SIGTERM and SIGINT (the kernel drops signals PID 1 has no
# handler for), so `docker stop` and Airbyte's cancel would wait for SIGKILL. The shell stays PID 1,
# passes the signals on, and exits with Node's status. `<&0` keeps stdin (an `&` job gets /dev/null).
# --max-semi-space-size=4 keeps a long read flat in memory (bin/main would otherwise restart Node with it).
node $heap_flag --max-semi-space-size=4 /app/bin/main "$@" <&0 &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM
trap 'kill -INT "$child" 2>/dev/null' INT
status=0
wait "$child" || status=$?
# A trapped signal interrupts `wait`; wait again for Node's own exit status.
while kill -0 "$child" 2>/dev/null; do
  status=0
  wait "$child" || status=$?
done
exit "$status"
