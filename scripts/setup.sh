#!/usr/bin/env bash
# Sets up everything cpex-ts needs on a fresh machine with Node 20 and python3:
# pnpm 10.34.9, the workspace's npm packages, and a Python venv (.venv) with pydantic 2, orjson,
# pytest and the Python reference implementation cpex==0.1.4. Idempotent; safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=10.34.9
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  echo "setup: installing pnpm@$PNPM_VERSION" >&2
  npm i -g "pnpm@$PNPM_VERSION" >/dev/null 2>&1 || COREPACK_INTEGRITY_KEYS=0 corepack enable pnpm
fi

if [ -f pnpm-lock.yaml ]; then
  pnpm install --frozen-lockfile --reporter=silent
else
  pnpm install --reporter=silent
fi

# Python: our own venv, so the machine's site-packages are never modified.
PY=${CPEX_PYTHON:-python3}
if ! command -v "$PY" >/dev/null 2>&1; then
  echo "setup: $PY not found; install Python 3.10+ (needed for Python plugins and the reference)" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv" >&2
  "$PY" -m venv .venv
fi
REQ=scripts/python-requirements.txt
STAMP=.venv/.cpex-req-stamp
if [ ! -f "$STAMP" ] || ! cmp -s "$REQ" "$STAMP"; then
  echo "setup: installing Python requirements into .venv" >&2
  .venv/bin/python -m pip install --disable-pip-version-check -q -r "$REQ"
  cp "$REQ" "$STAMP"
fi

# Toolchains for the real-runtime suites (WASM guests, native libraries, Go, Redis): one script per
# host in scripts/setup.d, run by the test command (CPEX_SETUP_TOOLCHAINS=1) and skipped by the demo.
if [ "${CPEX_SETUP_TOOLCHAINS:-}" = 1 ]; then
  for f in scripts/setup.d/*.sh; do
    [ -e "$f" ] || continue
    echo "setup: $f" >&2
    bash "$f"
  done
fi
