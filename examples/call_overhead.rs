//! Cost of calling a `#[checkpointable]` function, next to the same function without the
//! attribute, measured in one run (ns per call, ratio against the plain call).
//!
//! ```text
//! cargo run --release --example call_overhead -- [--calls N] [--reps R]
//! ```
//!
//! The callee is a tiny step (`*acc = acc * K + x`) with a save point behind a condition
//! that is never true at run time (`x == u64::MAX`), so `#[checkpointable]` transforms it
//! (a frame, a normal and a resume path). Four loops of N calls each, every one a plain
//! `for` loop over `0..N`:
//!
//! - `plain`: a plain loop calls the plain step (the same source without the attribute;
//!   its `ckpt::save()` is an ordinary call that never runs) — the baseline;
//! - `callee`: a plain loop calls the checkpointable step: the cost of opening and closing
//!   the callee's frame;
//! - `call point`: a checkpointable loop calls a checkpointable step *without* a point
//!   (left as written by the transform): the cost of the caller registering each call;
//! - `both`: a checkpointable loop calls the checkpointable step with its point: a call
//!   point and a frame per call, what a checkpointable program pays.
//!
//! And a pair for `ckpt::safepoint()`, the step written inline:
//!
//! - `inline`: a plain loop, the step inline — the baseline of the pair;
//! - `safepoint`: a checkpointable loop, the step inline and `ckpt::safepoint()` after
//!   each (no checkpoint is requested: the cost of the check).
//!
//! The loops run interleaved, one warm-up then R repetitions (default 7); the best of each
//! is reported. The last line, `RESULT key=value ...`, is there for scripts.
use std::hint::black_box;
use std::time::Instant;

const K: u64 = 6364136223846793005;

#[inline(never)]
fn step_plain(acc: &mut u64, x: u64) {
    *acc = acc.wrapping_mul(K).wrapping_add(x);
    if x == u64::MAX {
        ckpt::save().expect("checkpoint");
    }
}

/// Transformed: it holds a save point (never reached at run time).
#[ckpt::checkpointable]
#[inline(never)]
fn step_ckpt(acc: &mut u64, x: u64) {
    *acc = acc.wrapping_mul(K).wrapping_add(x);
    if x == u64::MAX {
        ckpt::save().expect("checkpoint");
    }
}

/// Checkpointable but without a point: the transform leaves it as written.
#[ckpt::checkpointable]
#[inline(never)]
fn step_unchanged(acc: &mut u64, x: u64) {
    *acc = acc.wrapping_mul(K).wrapping_add(x);
}

#[inline(never)]
fn plain_loop(n: u64) -> u64 {
    let mut acc = 1u64;
    for i in 0..n {
        step_plain(&mut acc, black_box(i));
    }
    acc
}

#[inline(never)]
fn callee_loop(n: u64) -> u64 {
    let mut acc = 1u64;
    for i in 0..n {
        step_ckpt(&mut acc, black_box(i));
    }
    acc
}

#[ckpt::checkpointable]
#[inline(never)]
fn call_point_loop(n: u64) -> u64 {
    let mut acc = 1u64;
    for i in 0..n {
        step_unchanged(&mut acc, black_box(i));
    }
    acc
}

#[ckpt::checkpointable]
#[inline(never)]
fn both_loop(n: u64) -> u64 {
    let mut acc = 1u64;
    for i in 0..n {
        step_ckpt(&mut acc, black_box(i));
    }
    acc
}

#[inline(never)]
fn inline_loop(n: u64) -> u64 {
    let mut acc = 1u64;
    for i in 0..n {
        acc = acc.wrapping_mul(K).wrapping_add(black_box(i));
    }
    acc
}

#[ckpt::checkpointable]
#[inline(never)]
fn safepoint_loop(n: u64) -> u64 {
    let mut acc = 1u64;
    for i in 0..n {
        acc = acc.wrapping_mul(K).wrapping_add(black_box(i));
        ckpt::safepoint().expect("checkpoint");
    }
    acc
}

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

type Loop = fn(u64) -> u64;

/// Not checkpointable: the measured calls happen inside the loops (a checkpointable
/// `callee_loop` caller would register its calls, which is what `both` measures).
fn main() {
    let n = arg("--calls", 20_000_000).max(1);
    let reps = arg("--reps", 7).max(1);
    let loops: [(&str, Loop); 6] = [
        ("plain", plain_loop),
        ("callee", callee_loop),
        ("call point", call_point_loop),
        ("both", both_loop),
        ("inline", inline_loop),
        ("safepoint", safepoint_loop),
    ];
    let expect = plain_loop(n);
    let mut best = [f64::MAX; 6];
    for rep in 0..=reps {
        for k in 0..loops.len() {
            // Rotate the order every repetition, so no loop always runs first.
            let i = (k + rep as usize) % loops.len();
            let t = Instant::now();
            let got = loops[i].1(black_box(n));
            let s = t.elapsed().as_secs_f64();
            assert_eq!(got, expect, "{} computes the same value", loops[i].0);
            if rep > 0 {
                best[i] = best[i].min(s);
            }
        }
    }
    let ns = |s: f64| s * 1e9 / n as f64;
    println!("calls: {n} per loop (best of {reps}, after one warm-up)");
    for (i, (name, _)) in loops.iter().enumerate() {
        // The safepoint pair is measured against its own baseline.
        let base = if i >= 4 { 4 } else { 0 };
        println!(
            "{name:<11} {:>7.2} ns/call  ratio {:>5.2}  (+{:.2} ns/call)",
            ns(best[i]),
            best[i] / best[base],
            ns(best[i]) - ns(best[base])
        );
    }
    println!(
        "RESULT calls={n} plain_ns={:.3} callee_ns={:.3} call_point_ns={:.3} both_ns={:.3} \
         callee_ratio={:.3} call_point_ratio={:.3} both_ratio={:.3} inline_ns={:.3} \
         safepoint_ns={:.3} safepoint_ratio={:.3}",
        ns(best[0]),
        ns(best[1]),
        ns(best[2]),
        ns(best[3]),
        best[1] / best[0],
        best[2] / best[0],
        best[3] / best[0],
        ns(best[4]),
        ns(best[5]),
        best[5] / best[4]
    );
}
