#!/usr/bin/env bash
# The test suite, several times in a row, with every CPU kept busy: tests must wait for conditions
# with deadlines, never for a guessed time, and this is how that is checked.
#   scripts/stress-tests.sh [RUNS] [pytest args...]     (default: 5 runs of the whole suite)
# Load: Debian's stress-ng (installed when running as root), one CPU worker per core.
# Needs the test install first: scripts/install.sh test
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
shift || true
venv=${GATEWATCH_VENV:-.venv}
cores=$(nproc)
if ! command -v stress-ng >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq stress-ng >/dev/null
  else
    echo "stress-tests.sh: needs stress-ng: sudo apt-get install stress-ng" >&2
    exit 1
  fi
fi
stress-ng --cpu "$cores" --cpu-method matrixprod --quiet &
load=$!
trap 'kill "$load" 2>/dev/null || true' EXIT
echo "stress-tests.sh: $runs run(s) of the suite, $cores CPU worker(s) of stress-ng busy throughout"
failed=0
for run in $(seq 1 "$runs"); do
  started=$(date +%s)
  if "$venv/bin/python" -m pytest -q -p no:cacheprovider "$@" >"/tmp/gatewatch-stress-$run.log" 2>&1; then
    result=passed
  else
    result=FAILED
    failed=$((failed + 1))
  fi
  echo "run $run: $result in $(( $(date +%s) - started )) s: $(tail -n 1 "/tmp/gatewatch-stress-$run.log")"
done
echo "stress-tests.sh: $((runs - failed)) of $runs run(s) passed under load (logs: /tmp/gatewatch-stress-N.log)"
[ "$failed" = 0 ]
