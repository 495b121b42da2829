#!/usr/bin/env bash
# The one test command: sets up a fresh machine (scripts/setup.sh) and runs every check:
# lint, typecheck, the vitest suites (unit, real-runtime, type tests), the conformance corpus,
# and the Python package tests. Prints a closing "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."
export CI=${CI:-}

CPEX_SETUP_TOOLCHAINS=1 bash scripts/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }

failed_steps=()
step() { # name cmd...
  local name=$1; shift
  echo "::: $name" >&2
  if ! "$@"; then failed_steps+=("$name"); fi
}

step lint pnpm exec biome check .
step typecheck pnpm exec tsc -p tsconfig.json --noEmit
step build pnpm exec turbo run build --output-logs=errors-only
step packaging node scripts/check-packages.mjs
mkdir -p .cpex-cache
step vitest pnpm exec vitest run --reporter=default --reporter=json --outputFile=.cpex-cache/vitest.json
[ -f scripts/test-extra.sh ] && step extra bash scripts/test-extra.sh
# One step per host or package with checks outside vitest (go test, cargo, ...): scripts/test.d.
for f in scripts/test.d/*.sh; do
  [ -e "$f" ] || continue
  step "$(basename "$f" .sh)" bash "$f"
done

node scripts/summarize-tests.mjs .cpex-cache/vitest.json "${failed_steps[@]}"
