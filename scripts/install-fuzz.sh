#!/usr/bin/env bash
# Installs schemathesis (PyPI, pinned in requirements-fuzz.txt) into .tools/fuzz, for the API's fuzz test.
# Does nothing when the same pins are installed already.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.tools/fuzz"
requirements="$root/scripts/requirements-fuzz.txt"
stamp="$venv/.requirements-fuzz.txt"

if [[ -x "$venv/bin/schemathesis" ]] && cmp -s "$requirements" "$stamp"; then
  exit 0
fi
if ! command -v python3 >/dev/null 2>&1; then
  echo "install-fuzz: python3 (3.9+) is needed to install schemathesis from PyPI" >&2
  exit 1
fi
echo "installing schemathesis into .tools/fuzz (PyPI, pinned)..." >&2
mkdir -p "$root/.tools"
[[ -x "$venv/bin/pip" ]] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
cp "$requirements" "$stamp"
"$venv/bin/schemathesis" --version >&2
