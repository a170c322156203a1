#!/usr/bin/env bash
# Installs NVIDIA's AI Configurator CLI (the PyPI package `aiconfigurator`, pinned) into a
# virtualenv keyed by its version, outside the repository, and prints the path of the CLI.
# The server finds the CLI through AICONFIGURATOR_PATH / --aiconfigurator-path (or on PATH).
#
#   scripts/aiconfigurator.sh                  install if missing, print .../bin/aiconfigurator
#   KAIR_CACHE=/path scripts/aiconfigurator.sh use another cache root
#
# aiconfigurator 0.12.0 warns that the distribution moves to `aisimulate` (same command and
# arguments) in 0.13.0; docs/backend.md says how to switch.
set -euo pipefail
exec "$(dirname "$0")/pip-tool.sh" aiconfigurator "${AICONFIGURATOR_VERSION:-0.12.0}" aiconfigurator version
