#!/usr/bin/env bash
# redis-server for @cpex/session-redis and fleet (hot reload pub/sub) tests: the tests start their
# own server on a free localhost port and stop it at the end; nothing runs as a service.
# (Valkey is not packaged in this Debian release; the key schema and commands are the same.)
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
if ! command -v redis-server >/dev/null 2>&1; then
  need_apt redis-server || { is_ci && exit 1; echo "setup: redis-server missing, the session-redis tests will fail" >&2; exit 0; }
fi
# The Debian package enables a system service; the tests never use it (a fixed port), so stop it.
if command -v systemctl >/dev/null 2>&1; then systemctl disable --now redis-server >/dev/null 2>&1 || true; fi
redis-server --version
