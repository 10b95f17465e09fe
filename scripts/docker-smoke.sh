#!/usr/bin/env bash
# The Docker step of CI: builds the connector image with the README's build recipe (the block marked
# `<!-- smoke: build -->`, with podman in place of docker), then runs the Docker tests in test/docker/
# (jest.docker.config.js): the image's metadata, contents, build context and entrypoint, and every
# README recipe in the image compared with bin/main on the host. `npm run test:docker` runs this.
#
#   bash scripts/docker-smoke.sh                          # what CI runs
#   bash scripts/docker-smoke.sh -t 'SIGTERM'             # extra arguments go to jest
#   SMOKE_WRITE_FIXTURES=1 bash scripts/docker-smoke.sh   # regenerate integration_tests/ fixtures
#   SMOKE_KEEP=1 ...                                      # keep the tests' work folders
set -Eeuo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
fail() {
  echo "docker-smoke: FAIL: $*" >&2
  exit 1
}

for tool in podman jq node; do
  command -v "$tool" >/dev/null || fail "'$tool' is not installed: bash scripts/setup.sh (as root) installs it"
done
# The host runs of the recipes must use the same code as the image: build lib/ (and the simulator
# package's lib/) when missing or older than their sources.
if [ ! -f lib/index.js ] || [ ! -f simulator/lib/cli.js ] \
  || [ -n "$(find src resources -newer lib/index.js -print -quit)" ] \
  || [ -n "$(find simulator/src -newer simulator/lib/cli.js -print -quit)" ]; then
  echo "==> docker-smoke: lib/ or simulator/lib/ is missing or older than its sources: npm run build" >&2
  npm run build --silent
fi

build=$(awk '/^<!-- smoke: build -->$/ { want = 1; next }
  want && /^```/ { if (inside) exit; inside = 1; next }
  inside { print }' README.md)
[ -n "$build" ] || fail "README.md has no '<!-- smoke: build -->' recipe"
echo "==> docker-smoke: $build (podman)" >&2
docker() {
  [ "$1" = build ] || fail "the build recipe may only run 'docker build': $build"
  shift
  podman build "$@"
}
log=$(mktemp /tmp/docker-smoke-build.XXXXXX)
if ! eval "$build" >"$log" 2>&1; then
  tail -20 "$log" >&2
  fail "the README's build recipe failed (log above; all of it in $log): $build"
fi
rm -f "$log"
echo "==> docker-smoke: image built in $(($(date +%s) - started)) s; the Docker tests (jest.docker.config.js)" >&2

npx jest -c jest.docker.config.js --ci --verbose "$@"
echo "==> docker-smoke: passed in $(($(date +%s) - started)) s" >&2
