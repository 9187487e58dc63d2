#!/usr/bin/env bash
# The project's test command (README): install what is missing, then the whole suite against real peers.
#   bash scripts/test.sh            the whole suite (CI)
#   bash scripts/test.sh --fast     every package's unit tests: -m "not slow" (no simulator, Prometheus,
#                                   demo, e2e stack or Ansible converge)
# Any other arguments go to pytest. Two runs may go at once on one host (tests/runnet.py).
# Two phases: every test but the whole-stack ones on SHARPEYES_TEST_WORKERS pytest-xdist workers
# (default 2, a test package at a time, in collection order: the Ansible converge, the longest, starts
# first), then the whole-stack tests (marker whole_stack) alone, one
# after the other (tests/conftest.py says why). SHARPEYES_TEST_WORKERS=0: one process, one phase.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"  # subprocesses (sharpeyes-* commands) run this checkout
args=()
select="" fast=0
for a in "$@"; do
  if [ "$a" = "--fast" ]; then fast=1; select="not slow"; else args+=("$a"); fi
done
bash scripts/setup.sh
pytest=(python3 -m pytest -q -rfEs -p no:cacheprovider)
workers=${SHARPEYES_TEST_WORKERS:-2}
if [ "$workers" = 0 ]; then
  exec "${pytest[@]}" ${select:+-m "$select"} "${args[@]}"
fi
status=0
"${pytest[@]}" -n "$workers" --dist loadgroup --no-loadscope-reorder -m "not whole_stack${select:+ and ($select)}" "${args[@]}" || status=$?
if [ "$fast" = 0 ]; then
  echo "test.sh: the whole-stack tests, alone" >&2
  "${pytest[@]}" -m whole_stack "${args[@]}" || { rc=$?; [ "$rc" = 5 ] || status=$rc; }  # 5: none selected
fi
[ "$status" = 5 ] && status=0  # the arguments selected no test of the first phase
exit "$status"
