//! Cost of the user-space components that exist so far next to the std calls they
//! replace, measured in one run: `ckpt::time::Instant::now()` vs `std::time::Instant::now()`,
//! `ckpt::rand::Rng` vs a plain xorshift, and `ckpt::collections::HashMap` vs std's map
//! (insert, lookup, iterate; with ~n distinct keys and with 1024). Target (DESIGN §8):
//! ≤ 1.10× on syscall-heavy loops. The file and clock loops of issue 4 are in
//! `examples/io_overhead.rs`.
//!
//! ```text
//! cargo run --release --example component_overhead -- [--n N]
//! ```
use std::hint::black_box;
use std::time::Instant;

fn n_from_args() -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == "--n")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000_000)
}

/// Best of 5 runs of `f`, in seconds.
fn best(mut f: impl FnMut() -> u64) -> f64 {
    (0..5)
        .map(|_| {
            let t = Instant::now();
            black_box(f());
            t.elapsed().as_secs_f64()
        })
        .fold(f64::MAX, f64::min)
}

fn row(what: &str, n: u64, std_s: f64, ckpt_s: f64) {
    let ns = |s: f64| s * 1e9 / n as f64;
    println!(
        "{what:<28} std {:>7.2} ns/op   ckpt {:>7.2} ns/op   ratio {:.3}",
        ns(std_s),
        ns(ckpt_s),
        ckpt_s / std_s
    );
}

fn main() {
    let n = n_from_args();
    println!("operations per measurement: {n} (best of 5)");

    let std_now = best(|| {
        (0..n)
            .map(|_| std::time::Instant::now().elapsed().subsec_nanos() as u64)
            .sum()
    });
    let ckpt_now = best(|| {
        (0..n)
            .map(|_| ckpt::time::Instant::now().elapsed().subsec_nanos() as u64)
            .sum()
    });
    row("Instant::now + elapsed", n, std_now, ckpt_now);

    let xorshift = best(|| {
        let mut s = 0x9E37_79B9_7F4A_7C15u64;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                s % 6
            })
            .sum()
    });
    let rng = best(|| {
        let mut r = ckpt::rand::Rng::seed_from(7);
        (0..n).map(|_| r.gen_range(0..6u64)).sum()
    });
    row("random 0..6 (xorshift vs Rng)", n, xorshift, rng);

    // A map of ~n distinct keys (far larger than the caches: lookups wait on memory)
    // and one of 1024 keys (in cache: lookups cost the hashing and probing).
    for (what, distinct) in [
        ("HashMap entry+get+values", n),
        ("HashMap, 1024 keys", 1024),
    ] {
        let keys: Vec<u64> = (0..n)
            .map(|i| (i % distinct).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 20)
            .collect();
        let std_map = best(|| {
            let mut m = std::collections::HashMap::new();
            for k in &keys {
                *m.entry(*k).or_insert(0u64) += 1;
            }
            keys.iter().filter_map(|k| m.get(k)).sum::<u64>() + m.values().sum::<u64>()
        });
        let ckpt_map = best(|| {
            let mut m = ckpt::collections::HashMap::new();
            for k in &keys {
                *m.entry(*k).or_insert(0u64) += 1;
            }
            keys.iter().filter_map(|k| m.get(k)).sum::<u64>() + m.values().sum::<u64>()
        });
        row(what, n, std_map, ckpt_map);
    }
}
