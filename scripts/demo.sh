#!/usr/bin/env bash
# The demo (README's first command): install what is missing, then the simulated district monitored end
# to end (simulator, exporter, Prometheus, Alertmanager, tickets) with a scripted scenario. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec sharpeyes-demo "$@"
