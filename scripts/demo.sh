#!/usr/bin/env bash
# The main demo: run montecarlo, kill -9 it mid-run, restore it, and compare the
# result with an uninterrupted run. Usage: scripts/demo.sh [steps]
set -euo pipefail
cd "$(dirname "$0")/.."
steps="${1:-300000000}"
cargo build --release --example montecarlo
bin="$PWD/target/release/examples/montecarlo"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

echo "== uninterrupted run"
t0=$(date +%s%N)
"$bin" --steps "$steps" > clean.txt
half_ms=$(( ($(date +%s%N) - t0) / 2000000 ))
tail -n 1 clean.txt | cut -c1-120
rm -f montecarlo.ckpt

echo "== run again, killed with SIGKILL halfway (after ${half_ms} ms)"
"$bin" --steps "$steps" > killed.txt &
pid=$!
sleep "$(awk "BEGIN { print $half_ms / 1000 }")"
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
tail -n 2 killed.txt
ls -l montecarlo.ckpt

echo "== restored with --restore montecarlo.ckpt"
"$bin" --restore montecarlo.ckpt > restored.txt
head -n 1 restored.txt
tail -n 1 restored.txt | cut -c1-120

if [ "$(tail -n 1 clean.txt)" = "$(tail -n 1 restored.txt)" ]; then
    echo "== same result as the uninterrupted run"
else
    echo "== RESULTS DIFFER" >&2
    exit 1
fi
