#!/usr/bin/env bash
# Record and replay cost (issue 10, item 8): the same program run live, recorded
# (--ckpt-record) and replayed (--replay start --log), best of REPS runs each, printed as
# ratios to the live run of the same invocation; and the log's bytes per event.
#
#   scripts/bench-replay.sh            # CARGO_TARGET_DIR=... to choose the build directory
#
# Programs (release builds): `journal` over LINES lines of standard input (a clock reading
# and a line of output per input line: syscall-heavy, no saves), and `montecarlo`
# (CPU-bound, a save per round).
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET="${CARGO_TARGET_DIR:-target}"
REPS="${REPS:-5}"
LINES="${LINES:-200000}"
cargo build --release --quiet --example journal --example montecarlo
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

M="$(realpath "$EX/montecarlo")"
mlive=$(best "$M" --steps 40000000 --ckpt-file m-live.ckpt)
mrec=$(best "$M" --steps 40000000 --ckpt-file m-rec.ckpt --ckpt-record "$dir/m.log")
echo "montecarlo, 40M samples (best of $REPS):"
echo "  live      $(ms "$mlive") ms"
echo "  recorded  $(ms "$mrec") ms   ratio $(ratio "$mrec" "$mlive")"
echo "RESULT journal_record_ratio=$(ratio "$rec" "$live") journal_replay_ratio=$(ratio "$rep" "$live") log_bytes_per_event=$(( size / events )) montecarlo_record_ratio=$(ratio "$mrec" "$mlive")"
