#!/usr/bin/env bash
# The demo command: sets up a fresh machine and runs the quickstart gateway (examples/quickstart).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
pnpm demo "$@"
