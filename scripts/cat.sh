#!/usr/bin/env bash
# Airbyte's Connector Acceptance Tests (CAT), run for real against the connector image: CAT 3.9.8 with
# acceptance-test-config.yml and CAT 0.11.5 with integration_tests/cat-0.11.5/ (the same tests in its
# format). Each run gets a fresh simulator started with the README's `<!-- smoke: cat-simulator -->`
# command, on the port the configs under integration_tests/ use. Only `-k "not backward_compatibility"`
# is deselected (by run-cat.sh): those tests compare with a previously published image.
#
#   bash scripts/cat.sh                   # builds the image (podman, layer cache), then both versions
#   CAT_IMAGE_BUILT=1 bash scripts/cat.sh # reuse the image scripts/docker-smoke.sh just built
#   CAT_VERSIONS=3.9.8 bash scripts/cat.sh
#
# The CAT runner (run-cat.sh, both CAT versions, the podman shim) lives outside this repository, in
# ${CAT_TOOLS_DIR:-the folder .ci/cat-tools-dir names}. Without it this prints a loud warning and exits 0, so a
# clone elsewhere still runs every other test. Exits non-zero when any CAT test fails or errors.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CAT_TOOLS_DIR=${CAT_TOOLS_DIR:-$(bash .ci/cat-tools-dir)}
VERSIONS=${CAT_VERSIONS:-3.9.8 0.11.5}
started=$(date +%s)
log() { echo "==> cat [+$(($(date +%s) - started))s] $*" >&2; }
fail() {
  echo "cat: FAIL: $*" >&2
  exit 1
}

if [ ! -f "$CAT_TOOLS_DIR/run-cat.sh" ]; then
  cat >&2 <<EOF

!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
!!  CAT NOT RUN: $CAT_TOOLS_DIR/run-cat.sh is absent; set CAT_TOOLS_DIR
!!  to a folder with run-cat.sh and both CAT versions (see README "Airbyte's acceptance tests").
!!  Airbyte's acceptance tests did NOT run; every other test does.
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!

EOF
  exit 0
fi

for tool in podman node curl; do
  command -v "$tool" >/dev/null || fail "'$tool' is not installed (podman: bash scripts/setup.sh as root)"
done
[ -f simulator/lib/cli.js ] || npm run build --silent

IMAGE=$(sed -n 's/^connector_image: *//p' acceptance-test-config.yml)
[ -n "$IMAGE" ] || fail "acceptance-test-config.yml has no connector_image"
if [ "${CAT_IMAGE_BUILT:-0}" != 1 ]; then
  log "podman build -t $IMAGE ."
  podman build -q -t "$IMAGE" . >/dev/null || fail "podman build failed"
fi
podman image exists "$IMAGE" || fail "image $IMAGE is not built: podman build -t $IMAGE ."

# The simulator command users run, from the README (so CI and the docs cannot drift apart).
SIM_CMD=$(awk '/^<!-- smoke: cat-simulator -->$/ { want = 1; next }
  want && /^```/ { if (inside) exit; inside = 1; next }
  inside { print }' README.md)
SIM_CMD=${SIM_CMD%&} # started in the background below
[ -n "$SIM_CMD" ] || fail "README.md has no '<!-- smoke: cat-simulator -->' command"
PORT=$(sed -n 's/.*--port \([0-9]*\).*/\1/p' <<<"$SIM_CMD")
grep -q "127.0.0.1:$PORT/" integration_tests/config.json \
  || fail "integration_tests/config.json does not target the port the README's simulator uses ($PORT)"

SIM_PID=""
SIM_LOG=""
stop_simulator() {
  if [ -n "$SIM_PID" ]; then
    kill "$SIM_PID" 2>/dev/null || true
    wait "$SIM_PID" 2>/dev/null || true
    SIM_PID=""
  fi
  if [ -n "$SIM_LOG" ]; then rm -f "$SIM_LOG"; SIM_LOG=""; fi
}
trap stop_simulator EXIT
start_simulator() {
  if curl -s -o /dev/null "http://127.0.0.1:$PORT/"; then
    fail "port $PORT is already in use: stop what listens there (CAT's expected records need this simulator's data)"
  fi
  SIM_LOG=$(mktemp /tmp/cat-simulator.XXXXXX)
  bash -c "exec $SIM_CMD" >"$SIM_LOG" 2>&1 &
  SIM_PID=$!
  for _ in $(seq 100); do
    grep -q '^listening on ' "$SIM_LOG" && return 0
    kill -0 "$SIM_PID" 2>/dev/null || fail "the simulator exited: $(cat "$SIM_LOG")"
    sleep 0.1
  done
  fail "the simulator did not start listening within 10 s: $(cat "$SIM_LOG")"
}

declare -A CONFIG_DIR=([3.9.8]="$ROOT" [0.11.5]="$ROOT/integration_tests/cat-0.11.5")
status=0
summaries=()
for version in $VERSIONS; do
  dir=${CONFIG_DIR[$version]:-}
  [ -n "$dir" ] || fail "no acceptance config for CAT $version (known: ${!CONFIG_DIR[*]})"
  log "CAT $version on ${dir#"$ROOT"/} (simulator: $SIM_CMD)"
  start_simulator
  out=$(mktemp /tmp/cat-$version.XXXXXX)
  rc=0
  bash "$CAT_TOOLS_DIR/run-cat.sh" run "$version" "$dir" 2>&1 | tee "$out" >&2 || rc=$?
  stop_simulator
  # pytest's last line, e.g. "===== 41 passed, 5 skipped, 2 deselected in 95.2s ====="
  summary=$(grep -E '^=+ .*(passed|failed|error).* in [0-9.]+s' "$out" | tail -1 | sed 's/^=* *//; s/ *=*$//')
  failed=$(grep -oE '[0-9]+ failed' <<<"$summary" | grep -oE '[0-9]+' || echo 0)
  errors=$(grep -oE '[0-9]+ errors?' <<<"$summary" | grep -oE '[0-9]+' || echo 0)
  summaries+=("CAT $version: ${summary:-no pytest summary} -> $failed failed, $errors errors (exit $rc)")
  if [ "$rc" != 0 ] || [ "$failed" != 0 ] || [ "$errors" != 0 ] || [ -z "$summary" ]; then status=1; fi
  rm -f "$out"
done
for s in "${summaries[@]}"; do log "$s"; done
[ "$status" = 0 ] || fail "Airbyte's acceptance tests did not all pass (above)"
log "every CAT version: 0 failed, 0 errors"
