#!/usr/bin/env bash
# The Docker step of CI: builds the connector image with podman and runs the README's docker recipes
# (the blocks marked `<!-- smoke: NAME -->` in the README's Docker section) against
# the simulator, with `podman run --network host` in place of `docker run`. Every recipe also runs
# with bin/main on the host (a `docker` shell function that maps the mounts onto host paths); every
# message must be identical but for emitted_at and durations in LOG lines. It also checks the image
# (size, labels, user, entrypoint, contents, heap sizing, signals) and the acceptance-test inputs
# under integration_tests/.
# Prints each step and its time; exits non-zero on the first mismatch. (Pipelines use `sed -n 1,Np`,
# not `head`, which would end them with SIGPIPE under pipefail.)
#
#   bash scripts/docker-smoke.sh                          # what CI runs
#   SMOKE_WRITE_FIXTURES=1 bash scripts/docker-smoke.sh   # regenerate integration_tests/ fixtures
#   SMOKE_KEEP=1 ...                                      # keep the work folder for inspection
set -Eeuo pipefail
trap 'echo "docker-smoke: FAIL: line $LINENO exited $?: $BASH_COMMAND" >&2' ERR
cd "$(dirname "$0")/.."
ROOT=$PWD
WRITE_FIXTURES=${SMOKE_WRITE_FIXTURES:-0}

t_start=$(date +%s%N)
t_step=$t_start
step_name=""
secs() { awk -v ns="$1" 'BEGIN { printf "%.1f", ns / 1e9 }'; }
end_step() {
  [ -n "$step_name" ] || return 0
  echo "    ok: $step_name ($(secs $(($(date +%s%N) - t_step)))s)" >&2
  step_name=""
}
step() {
  end_step
  step_name=$1
  t_step=$(date +%s%N)
  echo "==> docker-smoke [+$(secs $((t_step - t_start)))s] $1" >&2
}
fail() {
  echo "docker-smoke: FAIL in step '${step_name:-setup}': $*" >&2
  exit 1
}
note() { echo "    $*" >&2; }

# ---------------------------------------------------------------------------------------------
step "preflight (podman, jq, node, built lib/)"
for tool in podman jq node curl; do
  command -v "$tool" >/dev/null || fail "'$tool' is not installed. podman: run 'bash scripts/setup.sh' as root; jq/curl: apt-get install -y jq curl"
done
# The host runs must use the same code as the image: build when lib/ is missing or older than src/
# (and the simulator package's build, which the host runs use, when missing or older than its src/).
if [ ! -f lib/index.js ] || [ ! -f simulator/lib/cli.js ] || [ -n "$(find src resources -newer lib/index.js -print -quit)" ] \
  || [ -n "$(find simulator/src -newer simulator/lib/cli.js -print -quit)" ]; then
  note "lib/ or simulator/lib/ is missing or older than its sources: npm run build"
  npm run build --silent
fi

WORK=$(mktemp -d /tmp/docker-smoke.XXXXXX)
SIM_PID=""
cleanup() {
  local rc=$?
  if [ -n "$SIM_PID" ]; then kill "$SIM_PID" 2>/dev/null || true; fi
  if [ "${SMOKE_KEEP:-0}" = 1 ] || [ "$rc" != 0 ]; then
    echo "docker-smoke: work folder kept: $WORK" >&2
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

# ---------------------------------------------------------------------------------------------
step "extract the docker recipes from the docs"
# The README's Docker section is the source: CI runs what users read.
extract_recipes() { # file outdir
  awk -v out="$2" '
    /^<!-- smoke: [a-z-]+ -->$/ { name = $3; want = 1; next }
    want && /^```/ { inside = 1; want = 0; file = out "/" name ".sh"; printf "" > file; next }
    inside && /^```/ { inside = 0; close(file); next }
    inside { print >> file }
  ' "$1"
}
mkdir -p "$WORK/recipes" "$WORK/out"
RECIPES_FROM=""
for doc in README.md; do
  grep -q '^<!-- smoke: ' "$doc" 2>/dev/null || continue
  dir="$WORK/recipes-from-${doc//\//-}"
  mkdir -p "$dir"
  extract_recipes "$doc" "$dir"
  if [ -z "$RECIPES_FROM" ]; then
    RECIPES_FROM=$doc
    cp "$dir"/*.sh "$WORK/recipes/"
  else
    diff -r "$WORK/recipes" "$dir" >&2 \
      || fail "the docker recipes of $RECIPES_FROM and $doc differ (diff above): copy the section again"
  fi
done
[ -n "$RECIPES_FROM" ] || fail "README.md has no '<!-- smoke: NAME -->' docker recipes"
for name in build spec check discover catalog read save-state read-incremental cat-simulator; do
  [ -s "$WORK/recipes/$name.sh" ] || fail "$RECIPES_FROM has no '<!-- smoke: $name -->' recipe"
done
IMAGE=$(sed -n 's/^docker build .*-t \([^ ]*\) .*/\1/p' "$WORK/recipes/build.sh")
[ -n "$IMAGE" ] || fail "cannot read the image tag from the build recipe: $(cat "$WORK/recipes/build.sh")"
note "recipes from $RECIPES_FROM, image $IMAGE"

# Runs a recipe in a folder. mode=container: `docker` is podman with host networking.
# mode=host: `docker run [opts] IMAGE ARGS` runs bin/main ARGS with -v mounts mapped to host paths.
# Prints the exit code; stdout and stderr go to $WORK/out/TAG.stdout and TAG.stderr.
run_recipe() { # mode name dir tag
  local mode=$1 name=$2 dir=$3 tag=$4 prelude rc=0
  if [ "$mode" = container ]; then
    prelude='docker() { case "$1" in run) shift; podman run --network host "$@";; build) shift; podman build "$@";; *) echo "docker-smoke: unsupported: docker $1" >&2; return 2;; esac; }'
  else
    prelude="ROOT=$(printf %q "$ROOT")"'
docker() {
  [ "$1" = run ] || { echo "docker-smoke: host mode emulates docker run only" >&2; return 2; }
  shift
  local -a mounts=() envs=() args=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --rm | -i | -t | -it | --init) shift ;;
      -v | --volume) mounts+=("$2"); shift 2 ;;
      -e | --env) envs+=("$2"); shift 2 ;;
      -u | --user | -m | --memory | --network | --name | -w | --workdir) shift 2 ;;
      --*=*) shift ;;
      -*) echo "docker-smoke: host mode does not know docker run option $1" >&2; return 2 ;;
      *) shift; break ;; # the image
    esac
  done
  local a m src dst
  for a in "$@"; do
    for m in "${mounts[@]}"; do src=${m%%:*}; dst=${m#*:}; dst=${dst%%:*}; a=${a/#$dst/$src}; done
    args+=("$a")
  done
  env "${envs[@]}" "$ROOT/bin/main" "${args[@]}"
}'
  fi
  (cd "$dir" && timeout 300 bash -o pipefail -c "$prelude
$(cat "$WORK/recipes/$name.sh")") >"$WORK/out/$tag.stdout" 2>"$WORK/out/$tag.stderr" || rc=$?
  echo "$rc"
}

# Every stdout line must be one Airbyte message (a JSON object with a string `type`).
assert_pure_stdout() { # file label
  local bad
  bad=$(jq -R -r '. as $line | (try fromjson catch null) as $m
    | if ($m | type) == "object" and ($m.type | type) == "string" then empty else $line end' "$1" | sed -n 1,3p)
  [ -z "$bad" ] || fail "$2: stdout carries lines that are not Airbyte messages: $bad"
}
count() { jq -s "[.[] | $2] | length" "$1"; } # file jq-filter
# What must be identical between the container and the host: every message but its emitted_at, and
# LOG lines up to durations ("1.2s", "35 ms").
normalise() {
  jq -c 'del(.record.emitted_at, .trace.emitted_at)
    | if .type == "LOG" then .log.message |= gsub("[0-9]+(\\.[0-9]+)? ?(ms|s|seconds)\\b"; "<duration>") else . end' "$1"
}
assert_same_as_host() { # container-file host-file label
  local d
  if ! d=$(diff <(normalise "$2") <(normalise "$1")); then
    fail "$3: the image's output differs from bin/main on the host (< host, > image):
$(echo "$d" | sed -n 1,20p | cut -c1-400)"
  fi
  note "$3: $(count "$1" 'select(.type != "LOG")') messages and $(count "$1" 'select(.type == "LOG")') LOG lines identical to the host's"
}

# ---------------------------------------------------------------------------------------------
step "build the image (recipe 'build')"
rc=$(run_recipe container build "$ROOT" build)
[ "$rc" = 0 ] || fail "podman build exited $rc: $(tail -20 "$WORK/out/build.stdout" "$WORK/out/build.stderr")"

# ---------------------------------------------------------------------------------------------
step "image facts (size, layers, labels, user, entrypoint, contents)"
inspect() { podman image inspect --format "$1" "$IMAGE"; }
size=$(inspect '{{.Size}}')
base_size=$(podman image inspect --format '{{.Size}}' docker.io/library/node:20-bookworm-slim)
note "runtime image: $((size / 1000000)) MB; node:20-bookworm-slim base: $((base_size / 1000000)) MB; added by this Dockerfile: $(((size - base_size) / 1000000)) MB"
note "layers above the base (podman history):"
podman history --format '{{.Size}}\t{{.CreatedBy}}' "$IMAGE" \
  | awk -F'\t' '$1 != "0 B" && $2 !~ /ADD file:/ { printf "      %-10s %s\n", $1, substr($2, 1, 90) }' >&2
version=$(node -p "require('./package.json').version")
[ "$(inspect '{{index .Config.Labels "io.airbyte.version"}}')" = "$version" ] \
  || fail "label io.airbyte.version is '$(inspect '{{index .Config.Labels "io.airbyte.version"}}')' but package.json says $version: update the Dockerfile's LABEL"
[ "$(inspect '{{index .Config.Labels "io.airbyte.name"}}')" = source-orchestra ] || fail "label io.airbyte.name is not source-orchestra"
[ "$(inspect '{{.Config.User}}')" = node ] || fail "the image runs as '$(inspect '{{.Config.User}}')', not node"
entrypoint=$(inspect '{{join .Config.Entrypoint " "}}')
airbyte_entrypoint=$(inspect '{{range .Config.Env}}{{println .}}{{end}}' | sed -n 's/^AIRBYTE_ENTRYPOINT=//p')
[ -n "$entrypoint" ] && [ "$entrypoint" = "$airbyte_entrypoint" ] \
  || fail "ENTRYPOINT '$entrypoint' and AIRBYTE_ENTRYPOINT '$airbyte_entrypoint' must be equal"
# Dev-only packages per the lockfile (and TypeScript, dev or optional) must not be in the runtime image.
node -e '
  const lock = require("./package-lock.json");
  for (const [k, v] of Object.entries(lock.packages))
    if ((v.dev || v.devOptional) && /^node_modules\/(@[^/]+\/)?[^/]+$/.test(k)) console.log(k.slice("node_modules/".length));
' >"$WORK/dev-only.txt"
cat >"$WORK/inspect.sh" <<'SH'
set -eu
cd /app
touch /airbyte/.writable && rm /airbyte/.writable || echo "NOT-WRITABLE /airbyte"
find . -path ./node_modules -prune -o \( -name '*.ts' -o -name '*.map' -o -name '*.test.*' \) -print
for d in src test bench snowflake scripts integration_tests simulator lib/simulator lib/scripts node_modules/orchestra-api-simulator .git secrets; do [ ! -e "$d" ] || echo "$d"; done
grep -rlF startSimulator lib || true
while read -r p; do [ ! -e "node_modules/$p" ] || echo "node_modules/$p"; done </dev-only.txt
SH
unexpected=$(podman run --rm --network none --entrypoint /bin/sh \
  -v "$WORK/inspect.sh:/inspect.sh:ro" -v "$WORK/dev-only.txt:/dev-only.txt:ro" "$IMAGE" /inspect.sh)
[ -z "$unexpected" ] || fail "the runtime image carries what it should not: $(echo "$unexpected" | sed -n 1,10p | tr '\n' ' ')"
note "no TypeScript, source maps, tests, simulator, demo or dev-only packages ($(wc -l <"$WORK/dev-only.txt") checked); /airbyte writable by node"

# ---------------------------------------------------------------------------------------------
step "build context (.dockerignore keeps tests, secrets and build leftovers out)"
# What `docker build .` sends: every file the .dockerignore lets through, listed from inside a build.
cat >"$WORK/context.Dockerfile" <<'DOCKERFILE'
FROM docker.io/library/node:20-bookworm-slim
COPY . /context
RUN cd /context && find . -type f | sort >/context-files.txt
DOCKERFILE
podman build -q -t docker-smoke-context -f "$WORK/context.Dockerfile" . >/dev/null
podman run --rm --network none --entrypoint cat docker-smoke-context /context-files.txt >"$WORK/context-files.txt"
podman rmi docker-smoke-context >/dev/null
outside=$(grep -v -E '^\./(package\.json|package-lock\.json|tsconfig\.json|tsconfig\.build\.json|bin/main|docker/entrypoint\.sh|resources/.+|src/.+)$' "$WORK/context-files.txt" || true)
tests=$(grep -E '\.(test|spec)\.ts$|/__tests__/|/secrets/' "$WORK/context-files.txt" || true)
[ -z "$outside$tests" ] || fail "the build context carries files it should not (first 10): $(echo "$outside$tests" | sed -n 1,10p | tr '\n' ' ')"
note "$(wc -l <"$WORK/context-files.txt") files in the build context: package*.json, tsconfig*.json, bin/main, docker/entrypoint.sh, resources/, src/"

# ---------------------------------------------------------------------------------------------
step "entrypoint: heap sized from the memory limit, exit status and signals passed through"
# A stand-in for bin/main that reports how the entrypoint started Node.
cat >"$WORK/heap-probe.js" <<'JS'
#!/usr/bin/env node
const v8 = require('v8');
process.stdout.write(JSON.stringify({ type: 'LOG', log: { level: 'INFO', message: JSON.stringify({
  execArgv: process.execArgv, heapMiB: Math.round(v8.getHeapStatistics().heap_size_limit / 1048576) }) } }) + '\n');
JS
heap_probe() { # extra podman run args...
  podman run --rm --network none -v "$WORK/heap-probe.js:/app/bin/main:ro" "$@" "$IMAGE" spec
}
out=$(heap_probe --memory=512m)
[ "$(echo "$out" | wc -l)" = 1 ] || fail "the entrypoint wrote to stdout: $out"
echo "$out" | jq -e '.log.message | fromjson | .execArgv | index("--max-old-space-size=384")' >/dev/null \
  || fail "with --memory=512m Node should start with --max-old-space-size=384, got: $out"
note "--memory=512m -> $(echo "$out" | jq -r .log.message)"
out=$(heap_probe)
echo "$out" | jq -e '.log.message | fromjson | .execArgv | map(select(startswith("--max-old-space-size"))) | length == 0' >/dev/null \
  || fail "without a memory limit Node should keep its default heap, got: $out"
note "no limit      -> $(echo "$out" | jq -r .log.message)"
out=$(heap_probe --memory=512m -e NODE_OPTIONS=--max-old-space-size=200)
echo "$out" | jq -e '.log.message | fromjson | (.execArgv | map(select(startswith("--max-old-space-size"))) | length == 0) and .heapMiB < 300' >/dev/null \
  || fail "NODE_OPTIONS=--max-old-space-size=200 should win over the computed heap, got: $out"
note "NODE_OPTIONS  -> $(echo "$out" | jq -r .log.message)"
# This machine has cgroup v1; cgroup v2 (most current hosts) is checked with a stand-in memory.max.
echo 268435456 >"$WORK/memory.max.256m"
echo max >"$WORK/memory.max.none"
out=$(heap_probe -v "$WORK/memory.max.256m:/sys/fs/cgroup/memory.max:ro")
echo "$out" | jq -e '.log.message | fromjson | .execArgv | index("--max-old-space-size=192")' >/dev/null \
  || fail "with a cgroup v2 memory.max of 256 MiB Node should start with --max-old-space-size=192, got: $out"
note "cgroup v2 256 MiB -> $(echo "$out" | jq -r .log.message)"
out=$(heap_probe -v "$WORK/memory.max.none:/sys/fs/cgroup/memory.max:ro")
echo "$out" | jq -e '.log.message | fromjson | .execArgv | map(select(startswith("--max-old-space-size"))) | length == 0' >/dev/null \
  || fail "with a cgroup v2 memory.max of 'max' Node should keep its default heap, got: $out"
note "cgroup v2 max     -> $(echo "$out" | jq -r .log.message)"
# A stand-in for bin/main that runs until stopped, or exits with the status it is given.
cat >"$WORK/sleeper.js" <<'JS'
#!/usr/bin/env node
if (process.argv[2] === 'exit') process.exit(Number(process.argv[3]));
setTimeout(() => {}, 600000);
JS
rc=0
podman run --rm --network none -v "$WORK/sleeper.js:/app/bin/main:ro" "$IMAGE" exit 3 || rc=$?
[ "$rc" = 3 ] || fail "the entrypoint should exit with Node's status 3, exited $rc"
for sig in TERM INT; do
  cid=$(podman run -d --network none -v "$WORK/sleeper.js:/app/bin/main:ro" "$IMAGE" read)
  sleep 1
  t0=$(date +%s%N)
  podman kill -s "$sig" "$cid" >/dev/null
  rc=$(timeout 20 podman wait "$cid") || fail "SIG$sig did not end the container within 20 s"
  podman rm "$cid" >/dev/null
  took=$(($(date +%s%N) - t0))
  [ "$took" -lt 5000000000 ] || fail "SIG$sig took $(secs "$took")s to end the container"
  note "SIG$sig ends a run in $(secs "$took")s (exit $rc); Node's exit status is passed through"
done

# ---------------------------------------------------------------------------------------------
step "start the simulator on the host (recipe 'cat-simulator', manual clock, port 0)"
# The acceptance tests' simulator, on a free port and a manual clock, so that both runs of every
# recipe (image and host) see the same simulated now; the key is a canary that must never be printed.
CANARY="smoke-canary-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
BAD_KEY="smoke-bad-key-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
sim_cmd=$(sed -e 's/[[:space:]]*&[[:space:]]*$//' -e 's/--port [0-9]*/--port 0/' -e 's/--clock [a-z]*/--clock manual/' \
  "$WORK/recipes/cat-simulator.sh")
case "$sim_cmd" in "node simulator/lib/cli.js "*) ;; *) fail "unexpected cat-simulator recipe: $sim_cmd" ;; esac
bash -c "exec $sim_cmd --api-key $CANARY" >"$WORK/out/simulator.stdout" 2>"$WORK/out/simulator.stderr" &
SIM_PID=$!
for _ in $(seq 1 100); do
  grep -q '^listening on ' "$WORK/out/simulator.stdout" 2>/dev/null && break
  kill -0 "$SIM_PID" 2>/dev/null || fail "the simulator exited: $(cat "$WORK/out/simulator.stderr")"
  sleep 0.1
done
SIM_URL=$(sed -n 's/^listening on //p' "$WORK/out/simulator.stdout" | sed -n 1,1p)
[ -n "$SIM_URL" ] || fail "the simulator did not print 'listening on <url>' within 10 s"
SIM_ORIGIN=${SIM_URL%/api/engine/public}
note "$sim_cmd -> $SIM_URL (simulated now $(curl -sf "$SIM_ORIGIN/_sim/now"))"

# Config of every run: the acceptance tests' config, pointed at this simulator.
config_for() { # source-config api-key
  jq --arg url "$SIM_URL" --arg key "$2" '.api_url = $url | .api_key = $key' "$1"
}
for mode in container host; do
  mkdir -p "$WORK/$mode/good/secrets" "$WORK/$mode/bad/secrets"
  config_for integration_tests/config.json "$CANARY" >"$WORK/$mode/good/secrets/config.json"
  config_for integration_tests/config.json "$BAD_KEY" >"$WORK/$mode/bad/secrets/config.json"
done
# The image runs as uid 1000; mktemp made the folders private to root.
chmod -R a+rX "$WORK"

# Runs a recipe as the image and on the host, checks exit codes and stdout, compares the two.
# Leaves the messages of both in $WORK/out/{container,host}-TAG.jsonl.
both() { # recipe dir(good|bad) tag expected-exit(0|nonzero) [file the recipe writes its messages to]
  local name=$1 where=$2 tag=$3 expect=$4 msgs=${5:-} mode rc
  for mode in container host; do
    rc=$(run_recipe "$mode" "$name" "$WORK/$mode/$where" "$mode-$tag")
    if [ "$expect" = 0 ] && [ "$rc" != 0 ]; then
      fail "$tag ($mode) exited $rc: $(tail -5 "$WORK/out/$mode-$tag.stderr" "$WORK/out/$mode-$tag.stdout" | cut -c1-300)"
    fi
    if [ "$expect" = nonzero ] && [ "$rc" = 0 ]; then fail "$tag ($mode) exited 0; a failure must exit non-zero"; fi
    if [ -n "$msgs" ]; then cp "$WORK/$mode/$where/$msgs" "$WORK/out/$mode-$tag.jsonl"; else cp "$WORK/out/$mode-$tag.stdout" "$WORK/out/$mode-$tag.jsonl"; fi
  done
  assert_pure_stdout "$WORK/out/container-$tag.jsonl" "$tag"
  assert_same_as_host "$WORK/out/container-$tag.jsonl" "$WORK/out/host-$tag.jsonl" "$tag"
}
C="$WORK/out/container" # prefix of the image's outputs

# ---------------------------------------------------------------------------------------------
step "spec"
both spec good spec 0
jq -e -s --slurpfile want resources/spec.json \
  '[.[] | select(.type == "SPEC")] | length == 1 and .[0].spec.connectionSpecification == $want[0].connectionSpecification' \
  "$C-spec.jsonl" >/dev/null || fail "spec: expected one SPEC message carrying resources/spec.json"

step "check with a good key"
both check good check 0
[ "$(jq -r 'select(.type == "CONNECTION_STATUS") | .connectionStatus.status' "$C-check.jsonl")" = SUCCEEDED ] \
  || fail "check: expected CONNECTION_STATUS SUCCEEDED, got: $(cat "$C-check.jsonl")"

step "check with a bad key (one CONNECTION_STATUS FAILED with the message, no TRACE, exit 0)"
both check bad check-bad 0
[ "$(jq -r -s '[.[] | select(.type != "LOG") | .type + ":" + (.connectionStatus.status // "")] | join(",")' "$C-check-bad.jsonl")" = CONNECTION_STATUS:FAILED ] \
  || fail "check with a bad key: expected exactly one CONNECTION_STATUS FAILED and nothing else, got: $(cat "$C-check-bad.jsonl")"
note "message: $(jq -r 'select(.type == "CONNECTION_STATUS") | .connectionStatus.message' "$C-check-bad.jsonl")"

step "discover"
both discover good discover 0
streams=$(jq -r -s '[.[] | select(.type == "CATALOG") | .catalog.streams[].name] | sort | join(" ")' "$C-discover.jsonl")
want_streams=$(jq -r '[.streams[].name] | sort | join(" ")' resources/streams.json)
[ "$streams" = "$want_streams" ] || fail "discover: streams '$streams', expected '$want_streams' (resources/streams.json)"

step "configured catalog from discover (recipe 'catalog')"
both catalog good catalog 0
for mode in container host; do cp "$WORK/$mode/good/secrets/catalog.json" "$WORK/out/$mode-catalog.json"; done
diff <(jq -S . "$WORK/out/host-catalog.json") <(jq -S . "$C-catalog.json") >&2 || fail "catalog: the image's catalog differs from the host's"
if [ "$WRITE_FIXTURES" = 1 ]; then
  cp "$C-catalog.json" integration_tests/configured_catalog.json
  npx prettier --log-level warn --write integration_tests/configured_catalog.json
  note "wrote integration_tests/configured_catalog.json"
fi
diff <(jq -S . integration_tests/configured_catalog.json) <(jq -S . "$C-catalog.json") >&2 \
  || fail "integration_tests/configured_catalog.json is not the catalog the 'catalog' recipe derives (diff above): SMOKE_WRITE_FIXTURES=1 bash scripts/docker-smoke.sh"

step "full read (recipe 'read')"
both read good read 0 messages.jsonl
for s in $want_streams; do
  n=$(count "$C-read.jsonl" "select(.type == \"RECORD\" and .record.stream == \"$s\")")
  k=$(count "$C-read.jsonl" "select(.type == \"STATE\" and .state.stream.stream_descriptor.name == \"$s\")")
  [ "$n" -gt 0 ] && [ "$k" -gt 0 ] || fail "read: stream $s gave $n records and $k STATE messages; expected some of both"
  note "$s: $n records, $k STATE checkpoints"
done
[ "$(count "$C-read.jsonl" 'select(.type == "TRACE" and .trace.type == "ERROR")')" = 0 ] || fail "read: TRACE ERROR in a successful read"

step "save the state (recipe 'save-state')"
both save-state good save-state 0
for mode in container host; do cp "$WORK/$mode/good/secrets/state.json" "$WORK/out/$mode-state-1.json"; done
diff "$WORK/out/host-state-1.json" "$C-state-1.json" >&2 \
  || fail "save-state: the image's state differs from the host's"
jq -e --argjson n "$(echo "$want_streams" | wc -w)" 'length == $n and all(.[]; .type == "STREAM")' "$C-state-1.json" >/dev/null \
  || fail "save-state: expected one STREAM state per stream, got: $(cat "$C-state-1.json")"

# ---------------------------------------------------------------------------------------------
step "acceptance-test inputs (integration_tests/) against the image"
# Airbyte's acceptance tests themselves run in scripts/cat.sh (and their configs are checked by
# test/conformance/acceptance-config.test.ts); this checks each input against the image and this
# simulator, and regenerates them with SMOKE_WRITE_FIXTURES=1.
cat_dir="$WORK/container/cat"
mkdir -p "$cat_dir"
config_for integration_tests/config.json "$CANARY" >"$cat_dir/config.json"
jq --arg url "$SIM_URL" '.api_url = $url' integration_tests/invalid_config.json >"$cat_dir/invalid_config.json"
jq '.streams |= map(.sync_mode = "full_refresh" | .destination_sync_mode = "overwrite")' \
  integration_tests/configured_catalog.json >"$cat_dir/full_refresh_catalog.json"
cp integration_tests/configured_catalog.json "$cat_dir/configured_catalog.json"
chmod -R a+rX "$cat_dir"
cat_run() { # tag args...
  local tag=$1 rc=0
  shift
  timeout 300 podman run --rm --network host -v "$cat_dir:/secrets:ro" "$IMAGE" "$@" \
    >"$WORK/out/cat-$tag.jsonl" 2>"$WORK/out/cat-$tag.stderr" || rc=$?
  assert_pure_stdout "$WORK/out/cat-$tag.jsonl" "cat $tag"
  echo "$rc"
}

rc=$(cat_run invalid check --config /secrets/invalid_config.json)
# CAT's `status: failed`: exactly one CONNECTION_STATUS, FAILED; a configuration problem exits 0.
[ "$rc" = 0 ] || fail "integration_tests/invalid_config.json: check exited $rc; a wrong key is a FAILED status and exit 0"
[ "$(jq -r -s '[.[] | select(.type == "CONNECTION_STATUS") | .connectionStatus.status] | join(",")' "$WORK/out/cat-invalid.jsonl")" = FAILED ] \
  || fail "integration_tests/invalid_config.json: check should give one CONNECTION_STATUS FAILED: $(cat "$WORK/out/cat-invalid.jsonl")"
[ "$(jq -s '[.[] | select(.type == "TRACE")] | length' "$WORK/out/cat-invalid.jsonl")" = 0 ] \
  || fail "integration_tests/invalid_config.json: a failed check carries no TRACE: $(cat "$WORK/out/cat-invalid.jsonl")"

rc=$(cat_run full-refresh read --config /secrets/config.json --catalog /secrets/full_refresh_catalog.json)
[ "$rc" = 0 ] || fail "full-refresh read with the acceptance config exited $rc: $(tail -3 "$WORK/out/cat-full-refresh.stderr")"
if [ "$WRITE_FIXTURES" = 1 ]; then
  # The three oldest records of each stream: finished long before the simulated now, so a CAT run
  # on the simulator's wall clock minutes later still reads them unchanged.
  jq -c -s --argjson at "$(curl -sf "$SIM_ORIGIN/_sim/now" | jq -r '.now | sub("\\.[0-9]+"; "") | fromdateiso8601 * 1000')" '
    [.[] | select(.type == "RECORD") | .record] | group_by(.stream)[]
    | sort_by(.data.updated_at // .data.inserted_at, .data.id) | .[:3][]
    | {stream, data, emitted_at: $at}' "$WORK/out/cat-full-refresh.jsonl" >integration_tests/expected_records.jsonl
  note "wrote integration_tests/expected_records.jsonl ($(wc -l <integration_tests/expected_records.jsonl) records)"
fi
missing=$(jq -c -n --slurpfile got "$WORK/out/cat-full-refresh.jsonl" '
  ([$got[] | select(.type == "RECORD") | {stream: .record.stream, data: .record.data}]) as $actual
  | inputs | {stream, data} | select(. as $e | $actual | index([$e]) | not)' integration_tests/expected_records.jsonl | sed -n 1,3p)
[ -z "$missing" ] || fail "integration_tests/expected_records.jsonl has records a full-refresh read does not return (first 3): $missing"
streams_expected=$(jq -r -s '[.[].stream] | unique | join(" ")' integration_tests/expected_records.jsonl)
[ "$streams_expected" = "$want_streams" ] || fail "expected_records.jsonl covers '$streams_expected', not every stream ($want_streams)"
note "expected_records.jsonl: $(wc -l <integration_tests/expected_records.jsonl) records, all in a full-refresh read of $(count "$WORK/out/cat-full-refresh.jsonl" 'select(.type == "RECORD")')"

if [ "$WRITE_FIXTURES" = 1 ]; then
  # The state the image wrote (cursor, cursor_field, open_ids), moved to the end of 2999 in the same
  # format: CAT compares the two cursors' types and character layout.
  jq 'map(del(.sourceStats) | .stream.stream_state.cursor |= "2999-12-31T23:59:59" + (.[19:] | gsub("[0-9]"; "9"))
      | .stream.stream_state.open_ids = [])' \
    "$C-state-1.json" >integration_tests/abnormal_state.json
  npx prettier --log-level warn --write integration_tests/abnormal_state.json
  note "wrote integration_tests/abnormal_state.json"
fi
cp integration_tests/abnormal_state.json "$cat_dir/abnormal_state.json"
chmod a+r "$cat_dir/abnormal_state.json"
rc=$(cat_run future-state read --config /secrets/config.json --catalog /secrets/configured_catalog.json --state /secrets/abnormal_state.json)
[ "$rc" = 0 ] || fail "read with integration_tests/abnormal_state.json exited $rc: $(tail -3 "$WORK/out/cat-future-state.stderr")"
n=$(count "$WORK/out/cat-future-state.jsonl" 'select(.type == "RECORD")')
k=$(count "$WORK/out/cat-future-state.jsonl" 'select(.type == "STATE")')
[ "$n" = 0 ] && [ "$k" -gt 0 ] || fail "future state: expected no records and at least one STATE, got $n records and $k STATE"
note "future state: 0 records, $k STATE messages; invalid config: check FAILED"

# ---------------------------------------------------------------------------------------------
step "incremental read from the saved state, 2 simulated hours later (recipe 'read-incremental')"
curl -sf -X POST "$SIM_ORIGIN/_sim/advance?ms=7200000" >/dev/null || fail "could not advance the simulator's clock"
both read-incremental good read-2 0 messages.jsonl
for mode in container host; do cp "$WORK/$mode/good/secrets/state.json" "$WORK/out/$mode-state-2.json"; done
diff "$WORK/out/host-state-2.json" "$C-state-2.json" >&2 \
  || fail "read-incremental: the merged state of the image differs from the host's"
node - "$C-state-1.json" "$C-state-2.json" <<'JS' || fail "read-incremental: the state did not move forward (above)"
const [s1, s2] = process.argv.slice(2).map((f) => require(f));
const cursor = (states, n) => Date.parse(states.find((s) => s.stream.stream_descriptor.name === n)?.stream.stream_state.cursor);
let ok = s2.length === s1.length;
for (const s of s1) {
  const n = s.stream.stream_descriptor.name, a = cursor(s1, n), b = cursor(s2, n);
  console.error(`    ${n}: cursor ${new Date(a).toISOString()} -> ${new Date(b).toISOString()}`);
  if (!(b > a)) ok = false;
}
process.exit(ok ? 0 : 1);
JS
n=$(count "$C-read-2.jsonl" 'select(.type == "RECORD")')
[ "$n" -gt 0 ] || fail "read-incremental: no records after 2 simulated hours (look-back and open runs should give some)"
note "$n records in the incremental read, $(count "$C-read-2.jsonl" 'select(.type == "STATE")') STATE checkpoints"

# ---------------------------------------------------------------------------------------------
step "the API key never appears in any output"
leaks=$(grep -l -F -e "$CANARY" -e "$BAD_KEY" "$WORK"/out/*.jsonl "$WORK"/out/*.stdout "$WORK"/out/*.stderr \
  | grep -v '/simulator\.' || true)
[ -z "$leaks" ] || fail "the API key appears in: $leaks"
note "$(ls "$WORK"/out/*.jsonl "$WORK"/out/*.stderr | wc -l) output files scanned"

end_step
echo "==> docker-smoke: all checks passed in $(secs $(($(date +%s%N) - t_start)))s (image $IMAGE)" >&2
