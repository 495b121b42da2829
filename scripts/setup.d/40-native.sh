#!/usr/bin/env bash
# @cpex/host-native: a C compiler for the probe fixtures (built by the tests, cached by source
# hash under .cache/native-fixtures) and cargo for the Rust fixture. koffi ships its prebuilt
# binary inside the npm package (no install script needed).
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

if ! command -v cc >/dev/null 2>&1 && ! command -v gcc >/dev/null 2>&1; then
  need_apt gcc libc6-dev || { is_ci && exit 1; echo "setup: native fixtures need gcc" >&2; }
fi
if ! command -v cargo >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/cargo" ]; then
  need_apt cargo || { is_ci && exit 1; echo "setup: the Rust native fixture needs cargo" >&2; }
fi
exit 0
