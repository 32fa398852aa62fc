#!/usr/bin/env bash
# The main demo: run montecarlo, kill -9 it mid-run, restore it, and compare the
# result with an uninterrupted run; then the same with wordfreq, a std-only program that
# reads a 54 MB file and writes a report and progress output, compared byte for byte.
# Usage: scripts/demo.sh [steps]
set -euo pipefail
cd "$(dirname "$0")/.."
steps="${1:-300000000}"
cargo build --release --example montecarlo --example wordfreq
bin="$PWD/target/release/examples/montecarlo"
wordfreq="$PWD/target/release/examples/wordfreq"
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

echo
echo "== wordfreq: generating a 54 MB text file"
awk 'BEGIN { srand(7); for (i = 0; i < 20000; i++) { w = ""; n = 2 + int(rand() * 8);
             for (k = 0; k < n; k++) w = w sprintf("%c", 97 + int(rand() * 26)); v[i] = w }
             for (l = 0; l < 900000; l++) { s = v[int(rand() ^ 4 * 20000)];
             for (k = 1; k < 10; k++) s = s " " v[int(rand() ^ 4 * 20000)]; print s "." } }' > big.txt
ls -l big.txt
mkdir clean killed
t0=$(date +%s%N)
(cd clean && "$wordfreq" ../big.txt out.tsv > progress.txt)
half_ms=$(( ($(date +%s%N) - t0) / 2000000 ))
echo "== uninterrupted: $(tail -n 1 clean/progress.txt)"
cd killed
"$wordfreq" ../big.txt out.tsv > progress.txt &
pid=$!
sleep "$(awk "BEGIN { print $half_ms / 1000 }")"
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
echo "== killed with SIGKILL after: $(tail -n 1 progress.txt)"
"$wordfreq" --restore wordfreq.ckpt >> progress.txt
echo "== restored (stdout appended to the same file): $(tail -n 1 progress.txt)"
if cmp -s out.tsv ../clean/out.tsv && cmp -s progress.txt ../clean/progress.txt; then
    echo "== out.tsv and progress.txt are byte-identical to the uninterrupted run's"
else
    echo "== OUTPUTS DIFFER" >&2
    exit 1
fi
