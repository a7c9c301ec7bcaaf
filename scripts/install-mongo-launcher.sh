#!/usr/bin/env bash
# Builds the MongoDB launcher (tools/mongo-launcher: mongo-java-server in one
# executable jar) into .tools/mongo-launcher/mongo-launcher.jar, but only when
# the jar is missing or older than its sources. Prints the jar's path on stdout;
# progress and errors go to stderr.
#
#   jar=$(scripts/install-mongo-launcher.sh)
#   java -Xmx512m -jar "$jar" --host 127.0.0.1 --port 0
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$root/tools/mongo-launcher"
out="$root/.tools/mongo-launcher"
jar="$out/mongo-launcher.jar"

die() {
  echo "install-mongo-launcher: $*" >&2
  echo "install-mongo-launcher: the MongoDB launcher needs Java 17+ and Maven;" \
    "set MONGODB_URI to use a real MongoDB instead." >&2
  exit 1
}

command -v java >/dev/null 2>&1 || die "java not found on PATH"
# "openjdk version "17.0.15" ..." or "java version "1.8.0_392"": take the major number.
java_major="$(java -version 2>&1 | sed -n 's/.*version "\([0-9][0-9]*\).*/\1/p' | head -n1)"
if [[ -z "$java_major" || "$java_major" == 1 || "$java_major" -lt 17 ]]; then
  die "java is too old or unrecognised ($(java -version 2>&1 | head -n1))"
fi

# Up to date when the jar exists and nothing in the sources (or this script) is newer.
stale() {
  [[ ! -f "$jar" ]] && return 0
  [[ -n "$(find "$src" "${BASH_SOURCE[0]}" -newer "$jar" -print -quit)" ]]
}

if stale; then
  command -v mvn >/dev/null 2>&1 || die "mvn (Maven) not found on PATH"
  mkdir -p "$out"
  # Parallel callers (e.g. several test workers) build once, the others wait.
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$out/.build.lock"
    flock 9
  fi
  if stale; then
    echo "building the MongoDB launcher (mongo-java-server) with Maven…" >&2
    # Maven's whole build directory lives under .tools, never in the source tree.
    # (Debian's Maven 3.8 prints stray ESC[0m codes even with -B -q; drop them.)
    mvn -q -B -f "$src/pom.xml" -Dlauncher.buildDir="$out/build" package 2>&1 |
      sed $'s/\e\\[0m//g' >&2
    # Copy then rename, so a reader never sees a half-written jar.
    cp "$out/build/mongo-launcher.jar" "$jar.tmp"
    mv -f "$jar.tmp" "$jar"
    echo "built $jar" >&2
  fi
fi

echo "$jar"
