#!/usr/bin/env bash
# Fetches the fixture plugins of Python cpex's own test suite and prints their import root.
#
#   bash scripts/cpex-fixtures.sh        # -> /…/.cache/cpex-fixtures/cpex-0.1.4/tests/unit/cpex/fixtures
#
# The fixtures (tests/unit/cpex/fixtures/{plugins,configs,common}) ship in the cpex==0.1.4 sdist
# on PyPI. They are downloaded with pip (the repo's .venv, else python3), checked against a pinned
# sha256, cached under .cache/cpex-fixtures/ (gitignored) and never copied into the repository.
# The sdist's layout is kept (cpex-0.1.4/tests/unit/cpex/fixtures), so the relative paths in its
# fixture configs (plugin_dirs, isolated script paths) resolve from cpex-0.1.4/ as they do in
# Python cpex's own test runs. Idempotent; once cached it works offline.
# `plugins.deny_filter.DenyListPlugin` imports from the printed directory. Only the path goes to stdout; progress and errors go to stderr.
# Exit codes: 0 ok, 1 the download or the check failed (the message says why).
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=0.1.4
SHA256=dc94b5d2db5e93c4570bcec6eadc8c684c4c271b0aae61452abb31a782d428cd
CACHE=${CPEX_FIXTURES_CACHE:-$PWD/.cache/cpex-fixtures}
SDIST=$CACHE/cpex-$VERSION.tar.gz
ROOT=$CACHE/cpex-$VERSION/tests/unit/cpex/fixtures
STAMP=$ROOT/.complete

say() { echo "cpex-fixtures: $*" >&2; }

if [ -f "$STAMP" ]; then
  echo "$ROOT"
  exit 0
fi

mkdir -p "$CACHE"
# Concurrent first runs (parallel test suites) take turns; the loser finds the work done.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$CACHE/.lock"
  flock 9
  if [ -f "$STAMP" ]; then
    echo "$ROOT"
    exit 0
  fi
fi
if [ ! -f "$SDIST" ]; then
  PIP_PY=.venv/bin/python
  [ -x "$PIP_PY" ] || PIP_PY=${CPEX_PYTHON:-python3}
  say "downloading the cpex==$VERSION sdist from PyPI (with $PIP_PY -m pip)"
  tmp=$(mktemp -d "$CACHE/dl.XXXXXX")
  if ! "$PIP_PY" -m pip download "cpex==$VERSION" --no-binary :all: --no-deps \
    --disable-pip-version-check -q -d "$tmp" >"$tmp/pip.log" 2>&1; then
    # pip may fail after the download when it prepares metadata; the archive is what we need.
    if [ ! -f "$tmp/cpex-$VERSION.tar.gz" ]; then
      say "could not download cpex==$VERSION from PyPI (is PyPI reachable? set PIP_INDEX_URL for a mirror). pip said:"
      tail -n 5 "$tmp/pip.log" >&2
      rm -rf "$tmp"
      exit 1
    fi
  fi
  mv "$tmp/cpex-$VERSION.tar.gz" "$SDIST"
  rm -rf "$tmp"
fi

actual=$(sha256sum "$SDIST" 2>/dev/null | cut -d' ' -f1 || shasum -a 256 "$SDIST" | cut -d' ' -f1)
if [ "$actual" != "$SHA256" ]; then
  say "$SDIST has sha256 $actual, expected $SHA256; removing it (run again to re-download)"
  rm -f "$SDIST"
  exit 1
fi

rm -rf "$CACHE/cpex-$VERSION"
tmp=$(mktemp -d "$CACHE/x.XXXXXX")
tar -xzf "$SDIST" -C "$tmp" "cpex-$VERSION/tests/unit/cpex/fixtures"
mv "$tmp/cpex-$VERSION" "$CACHE/cpex-$VERSION"
rm -rf "$tmp"
if [ ! -f "$ROOT/plugins/deny_filter.py" ]; then
  say "the sdist has no tests/unit/cpex/fixtures/plugins/deny_filter.py; layout changed?"
  exit 1
fi
touch "$STAMP"
say "fixtures extracted"
echo "$ROOT"
