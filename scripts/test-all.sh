#!/usr/bin/env bash
# Every test of the project, in order from fastest to slowest. This is what `npm test` and CI run.
# It first installs what is missing (scripts/setup.sh), so it works on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
step() { echo "==> [+$(( $(date +%s) - started ))s] $*" >&2; }

step "install what the tests need (scripts/setup.sh)"; bash scripts/setup.sh
step "build";                      npm run build --silent
step "typecheck (src, tests, simulator)"; npm run typecheck --silent
step "lint (eslint, prettier)";    npm run lint --silent
step "generated files are current"; python3 scripts/generate.py --check
step "jest (source, conformance, the simulator package)"; npx jest --ci
step "ruff";                       python3 -m ruff check snowflake scripts test/pyairbyte
step "pytest (native app)";        python3 -m pytest -q snowflake/tests
step "live Snowflake smoke (SKIPPED without credentials)"; npm run -s snowflake:smoke
step "PyAirbyte (own virtualenv)"; bash test/pyairbyte/run.sh -p no:warnings
step "docker image: build it, then the Docker tests (test/docker/)"; bash scripts/docker-smoke.sh
# Airbyte's own acceptance tests on the image just built (a loud "CAT NOT RUN" and no failure where
# the CAT tools folder is absent: see scripts/cat.sh).
step "Airbyte acceptance tests (CAT 3.9.8, CAT 0.11.5)"; CAT_IMAGE_BUILT=1 bash scripts/cat.sh
step "all tests passed"
