#!/usr/bin/env bash
# Installs what play.mjs needs: Debian's chromium and the pinned npm packages.
# Idempotent; meant for a fresh Debian 12 machine, run as root.
set -euo pipefail
cd "$(dirname "$0")"

apt_install() {
  # apt-get update first; retry the install once (transient dpkg archive errors were seen).
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" ||
    { sleep 5; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"; }
}

if [ ! -x /usr/bin/chromium ]; then
  apt_install chromium
fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  # playwright-core and dashjs declare node >= 20; Debian 12's nodejs is 18 (untested here).
  apt_install nodejs npm
fi

if [ ! -d node_modules ]; then
  npm ci --no-audit --no-fund
fi
