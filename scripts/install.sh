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

# The console's browser tests drive Debian's Chromium through playwright-core (no browser is downloaded), with a
# font that has Chinese glyphs for the zh-CN pages. Only root can install them; anyone else is told how, and the
# browser tests fail saying so.
if [[ ! -x /usr/bin/chromium || ! -d /usr/share/fonts/truetype/wqy ]]; then
  if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "installing Chromium and a Chinese font for the browser tests (apt-get)..." >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-wqy-microhei >/dev/null
  else
    echo "Chromium (/usr/bin/chromium) or its Chinese font is missing: the console's browser tests need them." >&2
    echo "  As root: apt-get update && apt-get install -y chromium fonts-wqy-microhei" >&2
  fi
fi

# A real MongoDB given by MONGODB_URI needs no embedded database (and so no Java).
if [[ -z "${MONGODB_URI:-}" ]]; then
  bash scripts/install-mongo-launcher.sh >/dev/null # it prints the jar's path, for other callers
fi
