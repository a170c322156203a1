#!/usr/bin/env bash
# Installs schemathesis (PyPI, pinned), the OpenAPI-driven API fuzzer the server's
# `schemathesis` test runs, into a virtualenv keyed by its version; prints the path of `st`.
#
#   scripts/schemathesis.sh                    install if missing, print .../bin/st
#   KAIR_CACHE=/path scripts/schemathesis.sh   use another cache root
set -euo pipefail
exec "$(dirname "$0")/pip-tool.sh" schemathesis "${SCHEMATHESIS_VERSION:-4.32.5}" st --version
