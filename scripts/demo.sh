#!/usr/bin/env bash
# The demo command: sets up a fresh machine and runs the quickstart gateway (examples/quickstart).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >&2   # setup progress on stderr: `bash scripts/demo.sh --json` stays pure JSON
pnpm demo "$@"
