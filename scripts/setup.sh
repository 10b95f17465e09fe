#!/usr/bin/env bash
# Installs what `npm test` needs and is missing, so that the README's test line works on a fresh
# machine and a second run costs seconds: npm packages (when node_modules is absent), the Python
# packages of requirements-dev.txt, Debian's jq, curl, chromium and chromium-driver (the Docker
# recipes and the dashboard's browser tests use them), podman with a local stand-in for the node:20-bookworm-slim base
# image (scripts/container-setup.sh), and the virtualenvs of Airbyte's acceptance tests when their
# tools folder is present (scripts/cat.sh). Debian packages and podman need root, or sudo without a
# password; without either it stops at once and names the command to run.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "    setup: $*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo "$@"
  else
    echo "setup: '$*' needs root; run it as root (or with sudo), then npm test again" >&2
    exit 1
  fi
}

if [ ! -d node_modules ]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

say "Python packages (requirements-dev.txt)"
python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -r requirements-dev.txt

missing=()
for cmd in jq curl chromium chromedriver; do command -v "$cmd" >/dev/null || missing+=("${cmd/chromedriver/chromium-driver}"); done
if [ ${#missing[@]} -gt 0 ]; then
  say "Debian packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v podman >/dev/null || ! podman image exists docker.io/library/node:20-bookworm-slim 2>/dev/null; then
  say "podman and the node:20-bookworm-slim stand-in (scripts/container-setup.sh)"
  as_root bash scripts/container-setup.sh
fi

CAT_TOOLS_DIR=${CAT_TOOLS_DIR:-$(bash .ci/cat-tools-dir)}
if [ -f "$CAT_TOOLS_DIR/run-cat.sh" ]; then
  say "Airbyte's acceptance tests: virtualenvs of both CAT versions"
  bash "$CAT_TOOLS_DIR/run-cat.sh" install
fi
