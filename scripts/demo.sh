#!/usr/bin/env bash
# The demo (README's first command): install what is missing, then show the sample district.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec sharpeyes-inventory stats "$@"
