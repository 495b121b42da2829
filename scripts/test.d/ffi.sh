#!/usr/bin/env bash
# @cpex/ffi Go side: pure-Go build (CGO_ENABLED=0), vet, the race-enabled test suite against a real
# sidecar (run from source: node --conditions=@cpex/source --import tsx packages/cli/src/bin.ts serve),
# and a short fuzz run throwing arbitrary frames at the sidecar. Then examples/go-gateway.
set -uo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/common.sh
export PATH="$PATH:/usr/local/go/bin"
if ! command -v go >/dev/null 2>&1; then
  echo "ffi: go is not installed" >&2
  if is_ci; then exit 1; fi
  echo "ffi: skipped (not CI)"; exit 0
fi
export GOFLAGS="${GOFLAGS:-} -mod=readonly"
FUZZTIME=${CPEX_FFI_FUZZTIME:-20s}
status=0
run() { echo "+ $*" >&2; "$@" || status=1; }
(
  cd packages/ffi/go
  run env CGO_ENABLED=0 go build ./...
  run go vet ./...
  run go test -race -count=1 -timeout 15m ./...
  run go test -run '^$' -fuzz '^FuzzFrames$' -fuzztime "$FUZZTIME" -timeout 10m .
  exit $status
) || status=1
if [ -f examples/go-gateway/go.mod ]; then
  (
    cd examples/go-gateway
    run env CGO_ENABLED=0 go build -o /dev/null ./...
    run go test -count=1 -timeout 10m ./...
    exit $status
  ) || status=1
fi
exit $status
