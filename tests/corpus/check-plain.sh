#!/usr/bin/env bash
# Checks that every corpus program (src/bin and pending/) is valid plain Rust: strips the
# ckpt attributes, replaces `ckpt::save()` by `Ok::<(), std::io::Error>(())` (and
# `ckpt::Error` by `std::io::Error`), builds the copies in a scratch crate outside the
# workspace, then runs each once in a fresh directory and prints how many save points it
# passed, how many stdout lines it printed and which files it left.
#
#   tests/corpus/check-plain.sh [SCRATCH_DIR]      (default: /tmp/ckpt-corpus-plain)
set -euo pipefail

corpus="$(cd "$(dirname "$0")" && pwd)"
scratch="${1:-/tmp/ckpt-corpus-plain}"
mkdir -p "$scratch/src/bin"
rm -f "$scratch"/src/bin/*.rs
cat > "$scratch/Cargo.toml" <<'EOF'
[package]
name = "ckpt-corpus-plain"
version = "0.1.0"
edition = "2021"
publish = false

[workspace]
EOF

names=()
for f in "$corpus"/src/bin/*.rs "$corpus"/pending/*.rs; do
    [ -f "$f" ] || continue
    n="$(basename "$f" .rs)"
    names+=("$n")
    # Each save point prints a marker on stderr so the runs below can count them.
    sed -E -e '/^\s*#\[(ckpt::)?checkpointable(\([^)]*\))?\]\s*$/d' \
        -e '/^\s*use ckpt::checkpointable;\s*$/d' \
        -e '/^\s*#\[derive\(ckpt::State\)\]\s*$/d' \
        -e 's/, ckpt::State//; s/ckpt::State, //' \
        -e 's/ckpt::save\(\)/{ eprintln!("@@SAVE"); Ok::<(), std::io::Error>(()) }/g' \
        -e 's/ckpt::Error/std::io::Error/g' "$f" > "$scratch/src/bin/$n.rs"
    if grep -n 'ckpt' "$scratch/src/bin/$n.rs"; then
        echo "error: $n still mentions ckpt after stripping" >&2
        exit 1
    fi
done

(cd "$scratch" && CARGO_TARGET_DIR="$scratch/target" cargo build -j 1 --bins 2>&1 | grep -E '^(warning|error)' -A6 || true)

for n in "${names[@]}"; do
    dir="$(mktemp -d)"
    rc=0
    (cd "$dir" && timeout 10 "$scratch/target/debug/$n" > out.txt 2> err.txt) || rc=$?
    saves="$(grep -c '@@SAVE' "$dir/err.txt" || true)"
    files="$(cd "$dir" && ls | { grep -v -e '^out.txt$' -e '^err.txt$' || true; } | tr '\n' ' ')"
    echo "$n: exit $rc, $saves saves, $(wc -l < "$dir/out.txt") stdout lines${files:+, left: $files}"
    rm -rf "$dir"
done
