#!/usr/bin/env bash
# The one test command (README quick start; .ci/run calls it): installs what the
# tests need, checks formatting and lints, runs every test. SLICECAST_SLOW_TESTS=1
# adds the slow suites.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --test
bash scripts/lint-deploy.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# The local binary alone, as the quick start builds it: without the `aws` feature
# (the workspace build above has it on, for the Lambda crate and the tests).
cargo check -p slicecast --locked
# Whisper (subtitles) installs itself on first use; the tests keep it under target/.
export SLICECAST_WHISPER_VENV="$PWD/target/whisper-venv"
cargo test --workspace --locked -- --test-threads=2
