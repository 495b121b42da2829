#!/usr/bin/env bash
# Checks beyond vitest, run by scripts/test.sh after the vitest suites.
set -euo pipefail
cd "$(dirname "$0")/.."

# conformance: the corpus on every host, and against the live Python cpex 0.1.4 reference
# (../shared sits beside the repo in CI).
pnpm -s conformance conformance/scenarios --host ts
pnpm -s conformance conformance/scenarios --host python --python-path ../shared/conformance/python
pnpm -s conformance conformance/scenarios --host ts --reference python --python-path ../shared/conformance/python

# host-python: the Python side (bundled cpex API parity with the real cpex 0.1.4, worker protocol);
# once with the repo's .venv (real cpex installed) and once with python3 (bundled package).
.venv/bin/python -m pytest -q -p no:cacheprovider packages/host-python/python/tests
python3 -m pytest -q -p no:cacheprovider packages/host-python/python/tests/test_worker_protocol.py

# Python cpex's own fixture plugins (tests/unit/cpex/fixtures of the cpex 0.1.4 sdist, fetched and
# cached in .cache/cpex-fixtures by scripts/cpex-fixtures.sh), unchanged, through host-python:
# with the .venv (real cpex), with python3 (the bundled package), and against the live reference.
CPEX_FIXTURES=$(bash scripts/cpex-fixtures.sh)
export CPEX_FIXTURES
pnpm -s conformance conformance/scenarios-cpex-fixtures --host python --python-path "$CPEX_FIXTURES"
CPEX_PYTHON=python3 pnpm -s conformance conformance/scenarios-cpex-fixtures --host python --python-path "$CPEX_FIXTURES"
pnpm -s conformance conformance/scenarios-cpex-fixtures --host ts --reference python --python-path "$CPEX_FIXTURES"
python3 -m pytest -q -p no:cacheprovider -m "not real_cpex" packages/host-python/python/tests/test_cpex_fixtures.py
