#!/bin/sh
# Every benchmark of RESULTS.md, one after the other (about 15 minutes), from the project root:
#   sh bench/run_all.sh
set -e
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
$PY -m bench.isso_compare --workers 2 --compare-workers 1 --rounds 4
$PY -m bench.scale
$PY -m bench.multi_instance
$PY -m bench.profile_hot --scenario hot counts post --write
