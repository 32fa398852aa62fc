#!/usr/bin/env bash
# Record and replay cost (issue 10, item 8): the same program run live, recorded
# (--ckpt-record) and replayed (--replay start --log), best of REPS runs each, printed as
# ratios to the live run of the same invocation; and the log's bytes per event.
#
#   scripts/bench-replay.sh            # CARGO_TARGET_DIR=... to choose the build directory
#
# Programs (release builds): `journal` over LINES lines of standard input (a clock reading
# and a line of output per input line: syscall-heavy, no saves), also with its output to
# a pipe (the output commit: the log written before output leaves); `montecarlo`
# (CPU-bound, a save per round); `output_latency` (the time a line takes to reach the
# reader of a pipe, live, recorded, recorded with --ckpt-log-sync; median of REPS runs'
# medians).
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET="${CARGO_TARGET_DIR:-target}"
REPS="${REPS:-5}"
LINES="${LINES:-200000}"
cargo build --release --quiet --example journal --example montecarlo --example output_latency
cargo build --release --quiet -p ckpt-build --bin cargo-ckpt
EX="$TARGET/release/examples"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
seq 1 "$LINES" > "$dir/in.txt"

# best SECONDS of REPS runs of the command (stdin from in.txt, stdout discarded)
best() {
    local b=""
    for _ in $(seq "$REPS"); do
        local t0 t1
        t0=$(date +%s%N)
        (cd "$dir" && "$@" < "$dir/in.txt" > /dev/null)
        t1=$(date +%s%N)
        local t=$(( t1 - t0 ))
        if [ -z "$b" ] || [ "$t" -lt "$b" ]; then b=$t; fi
    done
    echo "$b"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
ms() { awk -v a="$1" 'BEGIN { printf "%.1f", a / 1e6 }'; }

J="$(realpath "$EX/journal")"
live=$(best "$J" --save-every 1000000000 --ckpt-file live.ckpt)
rec=$(best "$J" --save-every 1000000000 --ckpt-file rec.ckpt --ckpt-record "$dir/run.log")
rep=$(best "$J" --replay start --log "$dir/run.log")
events=$("$TARGET/release/cargo-ckpt" ckpt log "$dir/run.log" | tail -n +3 | wc -l)
size=$(stat -c %s "$dir/run.log")
echo "journal, $LINES lines (best of $REPS):"
echo "  live      $(ms "$live") ms"
echo "  recorded  $(ms "$rec") ms   ratio $(ratio "$rec" "$live")"
echo "  replayed  $(ms "$rep") ms   ratio $(ratio "$rep" "$live")"
echo "  log       $size bytes, $events events, $(( size / events )) bytes per event"

# A program that waits (1 ms after each of 1000 lines): its replay does not.
head -1000 "$dir/in.txt" > "$dir/in1k.txt"
wlive=$( t0=$(date +%s%N); (cd "$dir" && "$J" --pace 1 --save-every 1000000000 --ckpt-file w.ckpt --ckpt-record "$dir/w.log" < "$dir/in1k.txt" > /dev/null); echo $(( $(date +%s%N) - t0 )) )
wrep=$( t0=$(date +%s%N); (cd "$dir" && "$J" --replay start --log "$dir/w.log" > /dev/null); echo $(( $(date +%s%N) - t0 )) )
echo "journal --pace 1, 1000 lines (one run each):"
echo "  recorded  $(ms "$wlive") ms"
echo "  replayed  $(ms "$wrep") ms   ratio $(ratio "$wrep" "$wlive")"

# The same through a pipe: recorded, every line leaves through the output commit.
pipe_best() {
    local b=""
    for _ in $(seq "$REPS"); do
        local t0 t1
        t0=$(date +%s%N)
        (cd "$dir" && "$@" < "$dir/in.txt" | cat > /dev/null)
        t1=$(date +%s%N)
        local t=$(( t1 - t0 ))
        if [ -z "$b" ] || [ "$t" -lt "$b" ]; then b=$t; fi
    done
    echo "$b"
}
plive=$(pipe_best "$J" --save-every 1000000000 --ckpt-file plive.ckpt)
prec=$(pipe_best "$J" --save-every 1000000000 --ckpt-file prec.ckpt --ckpt-record "$dir/p.log")
echo "journal, $LINES lines, output to a pipe (best of $REPS):"
echo "  live      $(ms "$plive") ms"
echo "  recorded  $(ms "$prec") ms   ratio $(ratio "$prec" "$plive")"

# Output latency: median over REPS runs of each run's median (and p99), in microseconds.
L="$(realpath "$EX/output_latency")"
latency() {
    local p50s="" p99s=""
    for i in $(seq "$REPS"); do
        rm -f "$dir/lat.log" "$dir"/lat*.ckpt*
        local line
        line=$(cd "$dir" && "$L" --lines "${LAT_LINES:-2000}" --ckpt-file "lat$i.ckpt" "$@" | "$L" --read --ckpt-file "latr$i.ckpt")
        p50s="$p50s $(echo "$line" | awk '{ print $5 }')"
        p99s="$p99s $(echo "$line" | awk '{ print $9 }')"
    done
    med() { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
    echo "$(echo "$p50s" | med) $(echo "$p99s" | med)"
}
read -r l50 l99 <<< "$(latency)"
read -r r50 r99 <<< "$(latency --ckpt-record "$dir/lat.log")"
read -r s50 s99 <<< "$(latency --ckpt-record "$dir/lat.log" --ckpt-log-sync)"
added() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a - b }'; }
echo "output latency, ${LAT_LINES:-2000} lines to a pipe (median of $REPS runs; microseconds):"
echo "  live                 p50 $l50  p99 $l99"
echo "  recorded             p50 $r50  p99 $r99   added p50 $(added "$r50" "$l50")"
echo "  recorded, log-sync   p50 $s50  p99 $s99   added p50 $(added "$s50" "$l50")"

M="$(realpath "$EX/montecarlo")"
mlive=$(best "$M" --steps 40000000 --ckpt-file m-live.ckpt)
mrec=$(best "$M" --steps 40000000 --ckpt-file m-rec.ckpt --ckpt-record "$dir/m.log")
echo "montecarlo, 40M samples (best of $REPS):"
echo "  live      $(ms "$mlive") ms"
echo "  recorded  $(ms "$mrec") ms   ratio $(ratio "$mrec" "$mlive")"
echo "RESULT journal_record_ratio=$(ratio "$rec" "$live") journal_replay_ratio=$(ratio "$rep" "$live") journal_pipe_record_ratio=$(ratio "$prec" "$plive") log_bytes_per_event=$(( size / events )) montecarlo_record_ratio=$(ratio "$mrec" "$mlive") output_added_us_p50=$(added "$r50" "$l50") output_added_sync_us_p50=$(added "$s50" "$l50") waiting_replay_ratio=$(ratio "$wrep" "$wlive")"
