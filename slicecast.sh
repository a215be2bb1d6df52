#!/usr/bin/env bash
# Runs slicecast from a fresh checkout: installs ffmpeg when missing (apt), builds
# in release mode, then runs `slicecast "$@"`, e.g. ./slicecast.sh transcode video.mp4 --out out
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bash "$here/scripts/install-deps.sh"
cargo build --release --locked --quiet --manifest-path "$here/Cargo.toml" -p slicecast
exec "$here/target/release/slicecast" "$@"
