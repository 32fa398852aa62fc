#!/usr/bin/env bash
# Network benchmarks (issue 11, item 7): ckpt's user-space TCP stack next to the kernel's,
# measured side by side in one run, printed as ratios to the baseline of the same run.
#
#   scripts/bench-net.sh          # as root for the TAP parts; otherwise only the first three
#
# Unprivileged (in-process medium, examples/net_bench.rs):
#   a. TCP throughput, one connection, ckpt's stack in one thread vs kernel loopback TCP
#   b. 1-byte RTT, median and p99, ckpt vs kernel loopback
#   c. ckpt::save() pause, image size and restore time with 500 connection pairs open
#      (4 KiB unread on every 10th), next to the same program with none; the images on
#      disk (durable saves) and on /dev/shm (the CPU part)
# Root (network namespaces named ckptbench-*-PID, addresses in 198.51.100.0/24 only):
#   d. TAP throughput: ckpt's stack on a TAP sending to a kernel receiver in the namespace,
#      --ckpt-net-commit=none and =save (a safepoint after every 64 KiB write), vs the
#      kernel's TCP over a veth pair between two namespaces
#   e. examples/kvserver on the TAP with each commit mode (none, save, the input log with and
#      without fdatasync), a kernel client doing sequential
#      requests on one connection (req/s, p50/p99), vs the same client against a plain
#      kernel TCP key-value server over the veth pair
#
# Knobs (environment): REPS (runs of each TAP/kv measurement, best/median taken, default 3),
# MIB (in-process MiB, default 1024), TAP_MIB (default 256), SAVE_MIB (save-mode MiB,
# default 32), KV_N (requests, default 20000), RTT_ITERS (default 100000).
set -uo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target-bench}"
export CARGO_INCREMENTAL=0
REPS="${REPS:-3}"
MIB="${MIB:-1024}"
TAP_MIB="${TAP_MIB:-256}"
SAVE_MIB="${SAVE_MIB:-32}"
KV_N="${KV_N:-20000}"
RTT_ITERS="${RTT_ITERS:-100000}"

cargo build --release -j2 --quiet --example net_bench --example kvserver || exit 1
EX="$(realpath "$CARGO_TARGET_DIR/release/examples")"
NB="$EX/net_bench"

work="$(mktemp -d /tmp/ckptbench-net.XXXXXX)"
shm="$(mktemp -d /dev/shm/ckptbench-net.XXXXXX)"
R="$work/results.txt"
: > "$R"
NS_TAP="ckptbench-tap-$$"
NS_A="ckptbench-a-$$"
NS_B="ckptbench-b-$$"
TAP=cbtap0
bg_pids=()

cleanup() {
    for p in "${bg_pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    for ns in "$NS_TAP" "$NS_A" "$NS_B"; do
        if ip netns list 2>/dev/null | grep -qw "$ns"; then
            # Whatever runs in it (a program, the TAP holder) ends with it.
            for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
            sleep 0.1
            ip netns del "$ns" 2>/dev/null || echo "bench-net: could not delete netns $ns" >&2
        fi
    done
    rm -rf "$work" "$shm"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Runs a measurement with a time bound; its NETBENCH lines go to the results.
run() {
    local bound=$1
    shift
    timeout -k 5 "$bound" "$@" | tee -a "$R" | grep '^NETBENCH' || echo "bench-net: FAILED (or timed out): $*" >&2
}

echo "== unprivileged: in-process medium =="
for _ in $(seq "$REPS"); do run 300 "$NB" tput --mib "$MIB"; done
for _ in $(seq "$REPS"); do run 300 "$NB" rtt --iters "$RTT_ITERS"; done
for _ in $(seq "$REPS"); do
    echo "(images on disk, $work)"
    (cd "$work" && run 600 "$NB" pause --pairs 500 --reps 9 --dir "$work")
    sed -i 's/^NETBENCH kind=pause/NETBENCH where=disk kind=pause/' "$R"
    echo "(images on tmpfs, $shm)"
    (cd "$shm" && run 600 "$NB" pause --pairs 500 --reps 9 --dir "$shm")
    sed -i 's/^NETBENCH kind=pause/NETBENCH where=shm kind=pause/' "$R"
done

root=0
if [ "$(id -u)" != 0 ]; then
    echo "== root parts (TAP, netns, veth) SKIPPED: not root (euid $(id -u)) =="
elif [ ! -e /dev/net/tun ] || ! command -v ip > /dev/null; then
    echo "== root parts SKIPPED: no /dev/net/tun or no \`ip\` =="
else
    root=1
fi

if [ "$root" = 1 ]; then
    echo "== ROOT: TAP and veth (namespaces $NS_TAP, $NS_A, $NS_B) =="
    set -e
    ip netns add "$NS_TAP"
    ip -n "$NS_TAP" link set lo up
    ip netns exec "$NS_TAP" ip tuntap add dev "$TAP" mode tap
    ip -n "$NS_TAP" addr add 198.51.100.1/24 dev "$TAP"
    ip -n "$NS_TAP" link set "$TAP" up
    ip netns add "$NS_A"
    ip netns add "$NS_B"
    ip -n "$NS_A" link set lo up
    ip -n "$NS_B" link set lo up
    ip -n "$NS_A" link add cbva type veth peer name cbvb netns "$NS_B"
    ip -n "$NS_A" addr add 198.51.100.1/24 dev cbva
    ip -n "$NS_B" addr add 198.51.100.2/24 dev cbvb
    ip -n "$NS_A" link set cbva up
    ip -n "$NS_B" link set cbvb up
    set +e
    export CKPT_TAP_HOLDER_IDLE=5
    CKPT_OPTS=(--ckpt-tap "$TAP" --ckpt-ip 198.51.100.2/24)

    # d. throughput: a kernel sink for one connection, then the sender.
    sink() { # NS
        ip netns exec "$1" timeout -k 5 120 "$NB" sink --listen 198.51.100.1:9000 --ckpt-file "$work/sink.ckpt" 2>> "$work/sink.log" &
        bg_pids+=($!)
        sleep 0.3
    }
    for _ in $(seq "$REPS"); do
        sink "$NS_A"
        run 120 ip netns exec "$NS_B" "$NB" kernel-send --to 198.51.100.1:9000 --mib "$TAP_MIB" --label kernel-veth --ckpt-file "$work/send.ckpt"
        wait
        sink "$NS_TAP"
        mkdir -p "$work/tap-none" && (cd "$work/tap-none" && run 120 ip netns exec "$NS_TAP" "$NB" tap-send --to 198.51.100.1:9000 --mib "$TAP_MIB" --label tap-none "${CKPT_OPTS[@]}" --ckpt-net-commit=none)
        wait
        sink "$NS_TAP"
        mkdir -p "$work/tap-save" && (cd "$work/tap-save" && run 300 ip netns exec "$NS_TAP" "$NB" tap-send --to 198.51.100.1:9000 --mib "$SAVE_MIB" --safepoint --label tap-save "${CKPT_OPTS[@]}" --ckpt-net-commit=save)
        wait
        # The same with the images on tmpfs: the save's CPU cost without the fsync.
        sink "$NS_TAP"
        mkdir -p "$shm/tap-save" && (cd "$shm/tap-save" && run 300 ip netns exec "$NS_TAP" "$NB" tap-send --to 198.51.100.1:9000 --mib "$SAVE_MIB" --safepoint --label tap-save-shm "${CKPT_OPTS[@]}" --ckpt-net-commit=save)
        wait
    done

    # e. kvserver: the ckpt server on the TAP (both commit modes), the kernel one on veth.
    for _ in $(seq "$REPS"); do
        ip netns exec "$NS_B" timeout -k 5 120 "$NB" kv-server --listen 198.51.100.2:7878 --ckpt-file "$work/kvs.ckpt" &
        bg_pids+=($!)
        sleep 0.3
        run 120 ip netns exec "$NS_A" "$NB" kv-client --to 198.51.100.2:7878 --requests "$KV_N" --label kernel-veth --ckpt-file "$work/kvc.ckpt"
        wait
        for commit in none save save-shm log log-sync; do
            d="$work/kv-$commit"
            [ "$commit" = save-shm ] && d="$shm/kv-save"
            mkdir -p "$d"
            rm -f "$d"/kv.log "$d"/*.ckpt*
            case "$commit" in
                # Log-based: replies leave once the input log holds what they depend on
                # (page cache; with --ckpt-log-sync, fdatasync'd).
                log) mode=(--ckpt-record kv.log) ;;
                log-sync) mode=(--ckpt-record kv.log --ckpt-log-sync) ;;
                *) mode=(--ckpt-net-commit="${commit%-shm}") ;;
            esac
            (cd "$d" && ip netns exec "$NS_TAP" timeout -k 5 120 "$EX/kvserver" "${CKPT_OPTS[@]}" \
                "${mode[@]}" --every 1000000000 --connections 1 > "$d/out" 2> "$d/err") &
            bg_pids+=($!)
            run 120 ip netns exec "$NS_TAP" "$NB" kv-client --to 198.51.100.2:7878 --requests "$KV_N" --label "ckpt-$commit" --ckpt-file "$work/kvc.ckpt"
            wait
        done
    done
fi

# ---- summary ----
# field VALUE of KEY in a line
summary() {
    awk -v reps="$REPS" '
    function f(line, key,   n, i, a, kv) {
        n = split(line, a, " ")
        for (i = 1; i <= n; i++) { split(a[i], kv, "="); if (kv[1] == key) return kv[2] }
        return ""
    }
    function range(name,   s) {
        if (cnt[name] == 0) return "-"
        if (lo[name] == hi[name]) return lo[name]
        return lo[name] "-" hi[name]
    }
    function add(name, v) {
        if (v == "") return
        if (cnt[name] == 0 || v + 0 < lo[name] + 0) lo[name] = v
        if (cnt[name] == 0 || v + 0 > hi[name] + 0) hi[name] = v
        cnt[name]++
    }
    /kind=tput_inproc/ { add("tput_in", f($0, "gbit_per_s")) }
    /kind=tput_kernel/ { add("tput_k", f($0, "gbit_per_s")) }
    /kind=tput_ratio/ { add("tput_r", f($0, "inproc_over_kernel")) }
    /kind=rtt_inproc/ { add("rtt_in50", f($0, "p50_us")); add("rtt_in99", f($0, "p99_us")) }
    /kind=rtt_kernel/ { add("rtt_k50", f($0, "p50_us")); add("rtt_k99", f($0, "p99_us")) }
    /kind=rtt_ratio/ { add("rtt_r", f($0, "inproc_over_kernel_p50")) }
    /kind=pause_noconn/ { w = f($0, "where"); add("p0_" w, f($0, "save_ms_p50")); add("p0min_" w, f($0, "save_ms_min")); add("i0_" w, f($0, "image_bytes")); add("r0_" w, f($0, "restore_ms_p50")) }
    /kind=pause_conns/ { w = f($0, "where"); add("p1_" w, f($0, "save_ms_p50")); add("p1min_" w, f($0, "save_ms_min")); add("i1_" w, f($0, "image_bytes")); add("r1_" w, f($0, "restore_ms_p50")) }
    /kind=send/ { add("send_" f($0, "label"), f($0, "gbit_per_s")) }
    /kind=kv / { l = f($0, "label"); add("kvr_" l, f($0, "req_per_s")); add("kv50_" l, f($0, "p50_us")); add("kv99_" l, f($0, "p99_us")) }
    END {
        printf "\n%-58s %s\n", "measurement (range over runs of this command)", "value"
        printf "%-58s %s\n", "a. in-process TCP Gbit/s (target >= 10)", range("tput_in")
        printf "%-58s %s\n", "   kernel loopback TCP Gbit/s", range("tput_k")
        printf "%-58s %s\n", "   ratio kernel time / in-process time", range("tput_r")
        printf "%-58s %s\n", "b. in-process RTT p50 / p99 us (target p50 <= 2)", range("rtt_in50") " / " range("rtt_in99")
        printf "%-58s %s\n", "   kernel loopback RTT p50 / p99 us", range("rtt_k50") " / " range("rtt_k99")
        printf "%-58s %s\n", "   ratio in-process / kernel (p50)", range("rtt_r")
        for (wi = 1; wi <= 2; wi++) {
            w = (wi == 1) ? "disk" : "shm"
            if (cnt["p1_" w] == 0) continue
            printf "%-58s %s\n", "c. [" w "] save ms p50 (min), no connections", range("p0_" w) " (" range("p0min_" w) ")"
            printf "%-58s %s\n", "   [" w "] save ms p50 (min), 1000 conns + listener", range("p1_" w) " (" range("p1min_" w) ")"
            printf "%-58s %s\n", "   [" w "] image bytes, none / 1000 conns", range("i0_" w) " / " range("i1_" w)
            printf "%-58s %s\n", "   [" w "] restore ms p50, none / 1000 conns", range("r0_" w) " / " range("r1_" w)
        }
        if (cnt["send_kernel-veth"] + cnt["send_tap-none"] > 0) {
            printf "%-58s %s\n", "d. kernel TCP over veth Gbit/s", range("send_kernel-veth")
            printf "%-58s %s\n", "   ckpt on TAP, commit=none Gbit/s", range("send_tap-none")
            printf "%-58s %s\n", "   ckpt on TAP, commit=save (safepoint/write) Gbit/s", range("send_tap-save")
            printf "%-58s %s\n", "   the same, images on tmpfs (no fsync) Gbit/s", range("send_tap-save-shm")
            if (cnt["send_kernel-veth"] > 0) {
                printf "%-58s %.3f / %.4f\n", "   ratio to kernel (best runs): none / save", hi["send_tap-none"] / hi["send_kernel-veth"], hi["send_tap-save"] / hi["send_kernel-veth"]
            }
        }
        if (cnt["kvr_kernel-veth"] + cnt["kvr_ckpt-none"] > 0) {
            split("kernel-veth ckpt-none ckpt-save ckpt-save-shm ckpt-log ckpt-log-sync", L, " ")
            for (i = 1; i <= 6; i++) {
                l = L[i]
                printf "%-58s %s\n", "e. kv " l ": req/s ; p50 ; p99 us", range("kvr_" l) " ; " range("kv50_" l) " ; " range("kv99_" l)
            }
            if (cnt["kv50_kernel-veth"] > 0 && cnt["kv50_ckpt-none"] > 0 && cnt["kv50_ckpt-save"] > 0) {
                printf "%-58s %.1f / %.1f\n", "   added p50 us vs kernel (best runs): none / save", lo["kv50_ckpt-none"] - lo["kv50_kernel-veth"], lo["kv50_ckpt-save"] - lo["kv50_kernel-veth"]
            }
        }
    }' "$R"
}
echo
echo "== summary (REPS=$REPS; $(nproc) cores; $(uname -r)) =="
summary
