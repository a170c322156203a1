#!/usr/bin/env bash
# Installs the HTTP load generator of the backend benchmark (`oha`, from crates.io) at a pinned
# version into a version-keyed cache outside the repository, and prints the path of the binary.
# An already-installed version is reused.
#
#   scripts/load-generator.sh              install if missing, print the binary's path
#   OHA_VERSION=x.y.z scripts/...          another version
#   KAIR_BIN_CACHE=/path scripts/...       another cache (default ~/.cache/kubeairunway/bin, the
#                                          one scripts/build-testbin.sh uses)
#
# The first build takes a few minutes (2 cores); it runs in its own target directory so it never
# locks the project's.
set -euo pipefail

OHA_VERSION=${OHA_VERSION:-1.16.0}
CACHE=${KAIR_BIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubeairunway/bin}
ROOT="$CACHE/oha-$OHA_VERSION"
BIN="$ROOT/bin/oha"

say() { printf '[load-generator] %s\n' "$*" >&2; }
die() { printf '[load-generator] error: %s\n' "$*" >&2; exit 1; }

if [[ -x "$BIN" && -f "$ROOT/.done" ]]; then
  echo "$BIN"
  exit 0
fi

command -v cargo >/dev/null 2>&1 || die "cargo is not installed"
mkdir -p "$CACHE/logs"
log="$CACHE/logs/oha-$OHA_VERSION.log"
start=$SECONDS
say "oha $OHA_VERSION: building from crates.io (log: $log) ..."
rm -rf "$ROOT.tmp"
if ! CARGO_TARGET_DIR="$CACHE/oha-build" cargo install oha --locked --version "=$OHA_VERSION" \
    --root "$ROOT.tmp" >"$log" 2>&1; then
  tail -n 30 "$log" >&2
  die "building oha failed; full log in $log"
fi
rm -rf "$ROOT" && mv "$ROOT.tmp" "$ROOT" && touch "$ROOT/.done"
rm -rf "$CACHE/oha-build"
say "oha $OHA_VERSION: built in $((SECONDS - start))s"
echo "$BIN"
