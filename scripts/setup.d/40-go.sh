#!/usr/bin/env bash
# Go for the @cpex/ffi Go module (packages/ffi/go) and examples/go-gateway: Go 1.24+ (the machine has
# 1.26 at /usr/local/go) and the module's dependencies from the Go module proxy.
set -uo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/common.sh
export PATH="$PATH:/usr/local/go/bin"
if ! command -v go >/dev/null 2>&1; then
  need_apt golang-go || true
fi
if ! command -v go >/dev/null 2>&1; then
  echo "setup: go not found (needed by scripts/test.d/ffi.sh)" >&2
  if is_ci; then exit 1; fi
  exit 0
fi
for dir in packages/ffi/go examples/go-gateway; do
  [ -f "$dir/go.mod" ] || continue
  (cd "$dir" && go mod download) || { echo "setup: go mod download failed in $dir" >&2; is_ci && exit 1; }
done
exit 0
