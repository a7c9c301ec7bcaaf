#!/usr/bin/env bash
# Installs whatever is missing for `npm start` and `npm test`: node modules, Temporal's binaries, the
# embedded MongoDB launcher and the API fuzzer (schemathesis). Each step is skipped when its result is
# already there and up to date.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "installing node modules (npm ci)..." >&2
  npm ci --no-audit --no-fund --loglevel=error
fi

bash scripts/install-temporal.sh
bash scripts/install-fuzz.sh

# A real MongoDB given by MONGODB_URI needs no embedded database (and so no Java).
if [[ -z "${MONGODB_URI:-}" ]]; then
  bash scripts/install-mongo-launcher.sh >/dev/null # it prints the jar's path, for other callers
fi
