#!/usr/bin/env bash
# host-python's bundled `cpex` package keeps Python cpex's API, not its code: every function is
# compared with the cpex 0.1.4 sources installed in .venv (difflib); a non-trivial one above 0.8
# fails, and the committed summary (packages/host-python/python/COMPARISON.md) must be current.
set -uo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/common.sh
PY=.venv/bin/python
if ! "$PY" -c 'import cpex.framework' >/dev/null 2>&1; then
  echo "python-compat: no .venv with cpex 0.1.4 (run scripts/setup.sh)" >&2
  if is_ci; then exit 1; fi
  echo "python-compat: skipped (not CI)"; exit 0
fi
out=$(mktemp)
"$PY" packages/host-python/scripts/compare_cpex.py --check --markdown "$out" || exit 1
if ! diff -u packages/host-python/python/COMPARISON.md "$out"; then
  echo "python-compat: COMPARISON.md is stale; regenerate it (command at its top)" >&2
  exit 1
fi
echo "python-compat: ok"
