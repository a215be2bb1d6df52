#!/usr/bin/env bash
# The one test command (README quick start; .ci/run calls it): installs what the
# tests need, checks formatting and lints, runs every test. SLICECAST_SLOW_TESTS=1
# adds the slow suites (the tests marked #[ignore]: the full bench, a 60-minute clip).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --test
# The web page's own code (web/install.sh, run above, installs eslint): lint, unit tests.
(cd web && npx --no-install eslint . && node --test tests/unit/*.test.mjs)
bash scripts/lint-deploy.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# The local binary alone, as the quick start builds it: without the `aws` feature
# (the workspace build above has it on, for the Lambda crate and the tests).
cargo check -p slicecast --locked
# Whisper (subtitles) installs itself on first use; the tests keep it under target/.
export SLICECAST_WHISPER_VENV="$PWD/target/whisper-venv"
cargo test --workspace --locked -- --test-threads=2
if [ "${SLICECAST_SLOW_TESTS:-}" = 1 ]; then
  cargo test --locked -p slicecast --test bench --test long -- --ignored --test-threads=1
fi
