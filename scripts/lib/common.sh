# Shared helpers for scripts/setup.d/*.sh and scripts/test.d/*.sh (source it; bash only).
# is_ci: true under CI=true/1 — there a missing toolchain is a failure, never a skip.
is_ci() { local v=${CI:-}; case "${v,,}" in true|1|yes) return 0 ;; *) return 1 ;; esac; }  # twin: scripts/lib/ci.mjs isCI()

# need_apt PKG...: installs the Debian packages that are missing (apt-get update once per run).
need_apt() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ] && ! command -v sudo >/dev/null 2>&1; then
    echo "setup: need Debian packages ${missing[*]} (run as root or install them)" >&2
    return 1
  fi
  local SUDO=""; [ "$(id -u)" != 0 ] && SUDO=sudo
  if [ ! -f /tmp/.cpex-apt-updated ]; then
    $SUDO apt-get update -qq >/dev/null && touch /tmp/.cpex-apt-updated
  fi
  echo "setup: apt-get install ${missing[*]}" >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
