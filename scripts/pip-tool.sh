#!/usr/bin/env bash
# Installs a Python CLI from PyPI, pinned, into a virtualenv keyed by package and version
# outside the repository, and prints the path of its command. An existing complete install of
# the same version is reused.
#
#   scripts/pip-tool.sh PACKAGE VERSION [COMMAND] [CHECK-ARG...]
#       COMMAND defaults to PACKAGE; CHECK-ARGs (default `--version`) prove the command runs.
#   KAIR_CACHE=/path scripts/pip-tool.sh ...   use another cache root
set -euo pipefail

[[ $# -ge 2 ]] || { echo "usage: $0 PACKAGE VERSION [COMMAND] [CHECK-ARG...]" >&2; exit 2; }
PACKAGE=$1
VERSION=$2
COMMAND=${3:-$PACKAGE}
shift $(($# < 3 ? $# : 3))
CHECK=("$@")
[[ ${#CHECK[@]} -gt 0 ]] || CHECK=(--version)
PYTHON=${PYTHON:-python3}
CACHE=${KAIR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubeairunway}
VENV="$CACHE/$PACKAGE-$VERSION"
CLI="$VENV/bin/$COMMAND"

say() { printf '[%s] %s\n' "$PACKAGE" "$*" >&2; }
die() { printf '[%s] error: %s\n' "$PACKAGE" "$*" >&2; exit 1; }

if [[ -f "$VENV/.done" && -x "$CLI" ]]; then
  say "cached in $VENV"
  echo "$CLI"
  exit 0
fi

command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON is not installed (needed for $PACKAGE). Install Python >= 3.10 with its venv module and retry."
mkdir -p "$CACHE"
LOG="$CACHE/$PACKAGE-$VERSION.log"
start=$SECONDS
say "installing $PACKAGE==$VERSION into $VENV (log: $LOG) ..."
# A virtualenv records its own path in its scripts and cannot be moved, so it is built in place;
# `.done` marks a complete install, and anything without it is a failed attempt to redo.
rm -rf "$VENV"
if ! {
  "$PYTHON" -m venv "$VENV" &&
    "$VENV/bin/python" -m pip install --no-input --disable-pip-version-check --no-cache-dir \
      "$PACKAGE==$VERSION"
} >"$LOG" 2>&1; then
  tail -n 30 "$LOG" >&2
  rm -rf "$VENV"
  die "installing $PACKAGE failed; full log in $LOG"
fi
"$CLI" "${CHECK[@]}" >>"$LOG" 2>&1 || die "the installed CLI does not run; see $LOG"
touch "$VENV/.done"
say "installed in $((SECONDS - start))s"
echo "$CLI"
