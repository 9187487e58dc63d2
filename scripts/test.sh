#!/usr/bin/env bash
# The project's test command (README): install what is missing, then the whole suite against real peers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec python3 -m pytest -q -rfEs -p no:cacheprovider "$@"
