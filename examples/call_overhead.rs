//! Cost of a call of a `#[checkpointable]` function (frame, call registration, capture)
//! next to the same function without the attribute, measured in one run.
//!
//! ```text
//! cargo run --release --example call_overhead -- [--calls N]
//! ```
use std::hint::black_box;
use std::time::Instant;

#[ckpt::checkpointable]
fn step_ckpt(acc: &mut u64, x: u64) {
    *acc = acc.wrapping_mul(6364136223846793005).wrapping_add(x);
}

#[inline(never)]
fn step_plain(acc: &mut u64, x: u64) {
    *acc = acc.wrapping_mul(6364136223846793005).wrapping_add(x);
}

fn calls_from_args() -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == "--calls")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000_000)
}

fn plain_loop(n: u64) -> u64 {
    let mut acc = 1u64;
    for i in 0..n {
        step_plain(&mut acc, black_box(i));
    }
    acc
}

#[ckpt::checkpointable]
fn ckpt_loop(n: u64) -> u64 {
    let mut acc = 1u64;
    for i in 0..n {
        step_ckpt(&mut acc, black_box(i));
    }
    acc
}

/// Not checkpointable itself: it keeps `Instant`s, which are not saved yet (the time
/// component comes later); the measured calls happen inside `ckpt_loop`.
fn main() {
    let n = calls_from_args();
    let mut best = (f64::MAX, f64::MAX);
    for _ in 0..5 {
        let t = Instant::now();
        let a = plain_loop(n);
        let plain = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let b = ckpt_loop(n);
        let with = t.elapsed().as_secs_f64();
        assert_eq!(a, b, "both loops compute the same value");
        best = (best.0.min(plain), best.1.min(with));
    }
    let per = |s: f64| s * 1e9 / n as f64;
    println!("calls: {n} (best of 5)");
    println!("plain fn:          {:.2} ns/call", per(best.0));
    println!("#[checkpointable]: {:.2} ns/call", per(best.1));
    println!(
        "overhead:          {:.2} ns/call ({:.2}x)",
        per(best.1) - per(best.0),
        best.1 / best.0
    );
}
