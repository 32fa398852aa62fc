#!/usr/bin/env bash
# The main demo: run montecarlo, kill -9 it mid-run, restore it, and compare the
# result with an uninterrupted run; then the same with wordfreq, a std-only program that
# reads a 54 MB file and writes a report and progress output, compared byte for byte; then
# life, a program that draws (ckpt::gfx): every frame after the restore equals the
# uninterrupted run's, and `cargo ckpt inspect --surface 0 --png` shows what it showed.
# Usage: scripts/demo.sh [steps]
set -euo pipefail
cd "$(dirname "$0")/.."
steps="${1:-300000000}"
cargo build --release --example montecarlo --example wordfreq --example life
cargo build --release -p ckpt-build --bin cargo-ckpt
bin="$PWD/target/release/examples/montecarlo"
wordfreq="$PWD/target/release/examples/wordfreq"
life="$PWD/target/release/examples/life"
cargo_ckpt="$PWD/target/release/cargo-ckpt"
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

echo
echo "== life: 600 frames of the Game of Life as PNG files"
cd "$work"
mkdir life-clean life-killed
t0=$(date +%s%N)
(cd life-clean && "$life" --frames 600 --ckpt-display png:frames > out.txt)
half_ms=$(( ($(date +%s%N) - t0) / 2000000 ))
echo "== uninterrupted: $(cat life-clean/out.txt)"
cd life-killed
"$life" --frames 600 --ckpt-display png:frames > out.txt &
pid=$!
sleep "$(awk "BEGIN { print $half_ms / 1000 }")"
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
echo "== killed with SIGKILL after $(ls frames | grep -c 'png$') frames"
"$cargo_ckpt" ckpt inspect life.ckpt --surface 0 --png now.png
"$life" --restore life.ckpt > out.txt
echo "== restored: $(cat out.txt)"
if diff -r frames ../life-clean/frames > /dev/null; then
    echo "== all $(ls frames | wc -l) frames are byte-identical to the uninterrupted run's"
else
    echo "== FRAMES DIFFER" >&2
    exit 1
fi
