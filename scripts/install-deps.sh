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

# The web page's player libraries (hls.js, shaka-player) come from npm.
web="$(dirname "$0")/../web"
if ! command -v npm >/dev/null; then
  echo "installing node and npm (apt-get install nodejs npm) for the web page's player libraries" >&2
  apt_update
  DEBIAN_FRONTEND=noninteractive apt_install nodejs npm
fi
bash "$web/install.sh"

if [ "$need_test" -eq 1 ]; then
  # A real S3-compatible server for the S3 store's tests (about 3 minutes to build once).
  command -v s3s-fs >/dev/null || cargo install s3s-fs@0.14.1 --features binary --locked --quiet
  bash "$(dirname "$0")/../tests/players/install.sh"
fi
