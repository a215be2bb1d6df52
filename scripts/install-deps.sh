#!/usr/bin/env bash
# Installs what slicecast needs at run time (ffmpeg) and, with --test, what its
# tests need (Chromium + the npm player libraries). Idempotent; Debian/Ubuntu.
set -euo pipefail
need_test=0
[ "${1:-}" = "--test" ] && need_test=1
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"

apt_install() {
  # Retry once: a transient dpkg archive error has been seen on fresh machines.
  $SUDO apt-get install -y -qq "$@" || { sleep 2; $SUDO apt-get install -y -qq "$@"; }
}

updated=0
apt_update() {
  if [ "$updated" -eq 0 ]; then $SUDO apt-get update -qq; updated=1; fi
}

if ! command -v ffmpeg >/dev/null || ! command -v ffprobe >/dev/null; then
  echo "installing ffmpeg (apt-get install ffmpeg)" >&2
  apt_update
  DEBIAN_FRONTEND=noninteractive apt_install ffmpeg
fi

if [ "$need_test" -eq 1 ]; then
  bash "$(dirname "$0")/../tests/players/install.sh"
fi
