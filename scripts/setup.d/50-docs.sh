#!/usr/bin/env bash
# The docs snippet test (docs/test/snippets.test.ts) checks code blocks with bash -n, python3,
# gofmt (from 40-go.sh), gcc -fsyntax-only and rustfmt. Under CI a missing one fails the test.
set -uo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/common.sh
export PATH="$PATH:$HOME/.cargo/bin:/usr/local/go/bin"
status=0
command -v gcc >/dev/null 2>&1 || need_apt gcc || { echo "setup docs: cannot install gcc" >&2; status=1; }
if ! rustfmt --version >/dev/null 2>&1; then
  if command -v rustup >/dev/null 2>&1; then
    rustup component add rustfmt >&2 || { echo "setup docs: cannot add rustfmt" >&2; status=1; }
  else
    echo "setup docs: rustup is not installed (rustfmt checks the docs' Rust snippets)" >&2
    status=1
  fi
fi
command -v gofmt >/dev/null 2>&1 || { echo "setup docs: gofmt not found (installed with Go by 40-go.sh)" >&2; status=1; }
if [ $status -ne 0 ] && is_ci; then exit 1; fi
exit 0
