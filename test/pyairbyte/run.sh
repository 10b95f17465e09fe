#!/usr/bin/env bash
# Runs the PyAirbyte end-to-end test in its own virtualenv (created on first use).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv"
if [ ! -x "$venv/bin/pytest" ] || ! cmp -s "$here/requirements.txt" "$venv/.requirements"; then
  echo "creating PyAirbyte virtualenv in $venv (about a minute, once)" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
  cp "$here/requirements.txt" "$venv/.requirements"
fi
AIRBYTE_OFFLINE_MODE=1 DO_NOT_TRACK=1 "$venv/bin/pytest" -q "$here" "$@"
