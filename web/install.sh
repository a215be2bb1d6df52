#!/usr/bin/env bash
# Installs the web page's pinned npm packages (hls.js, shaka-player; playwright-core for
# tests/page.mjs, eslint for the lint) into web/node_modules with `npm ci`. Idempotent:
# does nothing when node_modules already holds exactly the versions package-lock.json pins.
# The end-to-end test also needs Chromium at /usr/bin/chromium (apt-get install chromium).
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v npm >/dev/null; then
  echo "web/install.sh: npm is missing (Node.js >= 20 with npm is needed)" >&2
  exit 1
fi

# True when every package in the lock is installed at its locked version.
in_sync() {
  [ -d node_modules ] && node -e '
    const fs = require("fs");
    const lock = JSON.parse(fs.readFileSync("package-lock.json", "utf8"));
    for (const [p, meta] of Object.entries(lock.packages)) {
      if (!p) continue;
      let v;
      try { v = JSON.parse(fs.readFileSync(p + "/package.json", "utf8")).version; } catch { process.exit(1); }
      if (v !== meta.version) process.exit(1);
    }
  '
}

if ! in_sync; then
  npm ci --no-audit --no-fund
fi
