#!/usr/bin/env bash
# Installs NVIDIA's AI Configurator CLI (the PyPI package `aiconfigurator`, pinned) into a
# virtualenv keyed by its version, outside the repository, and prints the path of the CLI.
# An existing install of the same version is reused. The server finds the CLI through
# AICONFIGURATOR_PATH / --aiconfigurator-path (or on PATH).
#
#   scripts/aiconfigurator.sh                  install if missing, print .../bin/aiconfigurator
#   KAIR_CACHE=/path scripts/aiconfigurator.sh use another cache root
#
# aiconfigurator 0.12.0 warns that the distribution moves to `aisimulate` (same command and
# arguments) in 0.13.0; docs/backend.md says how to switch.
set -euo pipefail

AICONFIGURATOR_VERSION=${AICONFIGURATOR_VERSION:-0.12.0}
PYTHON=${PYTHON:-python3}
CACHE=${KAIR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubeairunway}
VENV="$CACHE/aiconfigurator-$AICONFIGURATOR_VERSION"
CLI="$VENV/bin/aiconfigurator"

say() { printf '[aiconfigurator] %s\n' "$*" >&2; }
die() { printf '[aiconfigurator] error: %s\n' "$*" >&2; exit 1; }

if [[ -f "$VENV/.done" && -x "$CLI" ]]; then
  say "cached in $VENV"
  echo "$CLI"
  exit 0
fi

command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON is not installed (needed for AI Configurator). Install Python >= 3.10 with its venv module and retry."
mkdir -p "$CACHE"
LOG="$CACHE/aiconfigurator-$AICONFIGURATOR_VERSION.log"
start=$SECONDS
say "installing aiconfigurator==$AICONFIGURATOR_VERSION into $VENV (log: $LOG) ..."
# A virtualenv records its own path in its scripts and cannot be moved, so it is built in place;
# `.done` marks a complete install, and anything without it is a failed attempt to redo.
rm -rf "$VENV"
if ! {
  "$PYTHON" -m venv "$VENV" &&
    "$VENV/bin/python" -m pip install --no-input --disable-pip-version-check --no-cache-dir \
      "aiconfigurator==$AICONFIGURATOR_VERSION"
} >"$LOG" 2>&1; then
  tail -n 30 "$LOG" >&2
  rm -rf "$VENV"
  die "installing aiconfigurator failed; full log in $LOG"
fi
"$CLI" version >>"$LOG" 2>&1 || die "the installed CLI does not run; see $LOG"
touch "$VENV/.done"
say "installed in $((SECONDS - start))s"
echo "$CLI"
