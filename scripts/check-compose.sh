#!/usr/bin/env bash
# Validate docker-compose.yml with the loader Docker Compose v2 uses (compose-go),
# without a Docker engine. Needs only Go (the version in tools/compose-check/go.mod
# or newer) and the Go module proxy on the first build.
#
#   scripts/check-compose.sh [path/to/compose.yml]    (default: the repo's docker-compose.yml)
#
# The checker is built into .tools/compose-check/compose-check and rebuilt when
# any file under tools/compose-check/ is newer than the binary.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$repo_root/tools/compose-check"
bin_dir="$repo_root/.tools/compose-check"
bin="$bin_dir/compose-check"

if ! command -v go >/dev/null 2>&1; then
  echo "check-compose: 'go' not found on PATH; install Go to run this check" >&2
  exit 127
fi

stale=""
if [[ ! -x "$bin" ]]; then
  stale="missing"
elif [[ -n "$(find "$src" -type f -newer "$bin" -print -quit)" ]]; then
  stale="sources changed"
fi

if [[ -n "$stale" ]]; then
  echo "check-compose: building compose-check ($stale)..." >&2
  mkdir -p "$bin_dir"
  # -mod=readonly on the command line wins over any GOFLAGS=-mod=mod: the build
  # must work from the committed go.mod/go.sum alone and never rewrite them.
  # Build to a temporary name first so an interrupted build never leaves a
  # half-written binary that looks fresh.
  (cd "$src" && go build -mod=readonly -trimpath -buildvcs=false -o "$bin.tmp.$$" .)
  mv -f "$bin.tmp.$$" "$bin"
fi

if [[ $# -gt 0 ]]; then
  exec "$bin" "$@"
fi
cd "$repo_root"
exec "$bin" docker-compose.yml
