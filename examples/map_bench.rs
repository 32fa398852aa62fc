//! Map operations on a std `HashMap<u64, u64>` inside `#[checkpointable]` code next to the
//! same code outside it, measured in one run (issue 8: ordinary Rust compiles unchanged
//! under `#[checkpointable]`; target ≤ 1.10×).
//!
//! ```text
//! cargo run --release --example map_bench -- [--n N] [--reps R]
//! ```
//!
//! The workload (N keys, default 1 000 000; the keys are `i * 0x9E3779B97F4A7C15`,
//! distinct, spread over the whole `u64` range):
//!
//! | op | loop |
//! |---|---|
//! | insert_grow | `for i in 0..n { m.insert(key(i), i) }` into a fresh map (grows as it goes, then freed) |
//! | insert | the same into the shared map, cleared first (its table keeps room for N) |
//! | get | `for i in 0..n { sum += m[&key(i)] }` |
//! | remove | `for i in 0..n / 2 { m.remove(&key(2 * i)) }`: half the keys |
//! | iterate | `for (_, v) in m.iter() { sum += v }` over the N/2 left |
//! | iterate_point | the same loop with a save point inside it |
//!
//! Each op is a function, written twice with the same body: once plain and once with
//! `#[checkpointable]`. Every loop but the iterate's holds a save point behind a
//! condition that is never true at run time (`if i == save_at { ckpt::save()... }` with
//! `save_at = black_box(u64::MAX)`), so the transform really rewrites these functions
//! (frame, normal and resume paths, the loop's iterator counted). In the plain copy that
//! `ckpt::save()` is an ordinary call that never runs. The iterate function holds its
//! point *before* its loop; "iterate_point" holds it inside the loop, which makes the
//! transform collect the map's items into a `Replay` (so a restore can resume by the keys
//! still to visit): that row is reported separately.
//!
//! Both sides work on one map (one allocation, one hasher: the same keys land in the same
//! buckets at the same addresses; the fresh maps of insert_grow use the same hasher), each
//! running the whole workload in turn, so every op of a side starts from the same state
//! (the same map contents, the cache as the side's previous op left it). One warm-up and R
//! repetitions (default 15), alternating which side goes first; the best time of each op is
//! reported, with the ratio inside / outside. The last line, `RESULT key=value ...`, is
//! there for scripts.
use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hint::black_box;
use std::time::Instant;

type Map = HashMap<u64, u64>;

#[inline]
fn key(i: u64) -> u64 {
    i.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

// ---------------------------------------------------------------------------------------
// Outside: plain functions.

#[inline(never)]
fn plain_insert(m: &mut Map, n: u64, save_at: u64) {
    for i in 0..n {
        m.insert(key(i), i);
        if i == save_at {
            ckpt::save().expect("checkpoint");
        }
    }
}

#[inline(never)]
fn plain_get(m: &Map, n: u64, save_at: u64) -> u64 {
    let mut sum = 0u64;
    for i in 0..n {
        sum = sum.wrapping_add(m[&key(i)]);
        if i == save_at {
            ckpt::save().expect("checkpoint");
        }
    }
    sum
}

#[inline(never)]
fn plain_remove(m: &mut Map, n: u64, save_at: u64) -> u64 {
    let mut sum = 0u64;
    for i in 0..n / 2 {
        sum = sum.wrapping_add(m.remove(&key(2 * i)).unwrap_or(0));
        if i == save_at {
            ckpt::save().expect("checkpoint");
        }
    }
    sum
}

#[inline(never)]
fn plain_iterate(m: &Map, save_at: u64) -> u64 {
    if save_at == 0 {
        ckpt::save().expect("checkpoint");
    }
    let mut sum = 0u64;
    for (_, v) in m.iter() {
        sum = sum.wrapping_add(*v);
    }
    sum
}

#[inline(never)]
fn plain_iterate_point(m: &Map, save_at: u64) -> u64 {
    let mut sum = 0u64;
    for (k, v) in m.iter() {
        sum = sum.wrapping_add(*v);
        if *k == save_at {
            ckpt::save().expect("checkpoint");
        }
    }
    sum
}

// ---------------------------------------------------------------------------------------
// Inside: the same bodies, #[checkpointable].

#[ckpt::checkpointable]
#[inline(never)]
fn ckpt_insert(m: &mut Map, n: u64, save_at: u64) {
    for i in 0..n {
        m.insert(key(i), i);
        if i == save_at {
            ckpt::save().expect("checkpoint");
        }
    }
}

#[ckpt::checkpointable]
#[inline(never)]
fn ckpt_get(m: &Map, n: u64, save_at: u64) -> u64 {
    let mut sum = 0u64;
    for i in 0..n {
        sum = sum.wrapping_add(m[&key(i)]);
        if i == save_at {
            ckpt::save().expect("checkpoint");
        }
    }
    sum
}

#[ckpt::checkpointable]
#[inline(never)]
fn ckpt_remove(m: &mut Map, n: u64, save_at: u64) -> u64 {
    let mut sum = 0u64;
    for i in 0..n / 2 {
        sum = sum.wrapping_add(m.remove(&key(2 * i)).unwrap_or(0));
        if i == save_at {
            ckpt::save().expect("checkpoint");
        }
    }
    sum
}

#[ckpt::checkpointable]
#[inline(never)]
fn ckpt_iterate(m: &Map, save_at: u64) -> u64 {
    if save_at == 0 {
        ckpt::save().expect("checkpoint");
    }
    let mut sum = 0u64;
    for (_, v) in m.iter() {
        sum = sum.wrapping_add(*v);
    }
    sum
}

#[ckpt::checkpointable]
#[inline(never)]
fn ckpt_iterate_point(m: &Map, save_at: u64) -> u64 {
    let mut sum = 0u64;
    for (k, v) in m.iter() {
        sum = sum.wrapping_add(*v);
        if *k == save_at {
            ckpt::save().expect("checkpoint");
        }
    }
    sum
}

// ---------------------------------------------------------------------------------------
// The driver (not checkpointable: it only times the calls).

const OPS: [&str; 6] = [
    "insert_grow",
    "insert",
    "get",
    "remove",
    "iterate",
    "iterate_point",
];

struct Side {
    insert: fn(&mut Map, u64, u64),
    get: fn(&Map, u64, u64) -> u64,
    remove: fn(&mut Map, u64, u64) -> u64,
    iterate: fn(&Map, u64) -> u64,
    iterate_point: fn(&Map, u64) -> u64,
}

const PLAIN: Side = Side {
    insert: plain_insert,
    get: plain_get,
    remove: plain_remove,
    iterate: plain_iterate,
    iterate_point: plain_iterate_point,
};

const CKPT: Side = Side {
    insert: ckpt_insert,
    get: ckpt_get,
    remove: ckpt_remove,
    iterate: ckpt_iterate,
    iterate_point: ckpt_iterate_point,
};

/// Runs the workload once on `m` (cleared first: its table keeps its room, so every side
/// works in the same memory); returns each op's time in seconds and a checksum.
fn workload(side: &Side, m: &mut Map, n: u64, save_at: u64) -> ([f64; OPS.len()], u64) {
    let mut t = [0.0; OPS.len()];
    let mut check = 0u64;
    let mut timed = |i: usize, f: &mut dyn FnMut() -> u64| {
        let s = Instant::now();
        let r = black_box(f());
        t[i] = s.elapsed().as_secs_f64();
        check = check.wrapping_mul(31).wrapping_add(r);
    };
    // A fresh map with the same hasher, grown from empty, then freed.
    timed(0, &mut || {
        let mut fresh = Map::with_hasher(m.hasher().clone());
        (side.insert)(&mut fresh, n, save_at);
        fresh.len() as u64
    });
    m.clear();
    timed(1, &mut || {
        (side.insert)(m, n, save_at);
        m.len() as u64
    });
    timed(2, &mut || (side.get)(m, n, save_at));
    timed(3, &mut || (side.remove)(m, n, save_at));
    timed(4, &mut || (side.iterate)(m, save_at));
    timed(5, &mut || (side.iterate_point)(m, save_at));
    (t, check)
}

fn arg<T: std::str::FromStr>(name: &str, default: T) -> T {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == name) {
        None => default,
        Some(i) => match args.get(i + 1).and_then(|s| s.parse().ok()) {
            Some(v) => v,
            None => {
                eprintln!("usage: map_bench [--n N] [--reps R]");
                std::process::exit(2)
            }
        },
    }
}

fn main() {
    let n: u64 = arg("--n", 1_000_000).max(2);
    let reps: u32 = arg("--reps", 15).max(1);
    // Never met by the loops, and opaque to the compiler: the points stay in the code.
    let save_at: u64 = black_box(u64::MAX);

    // One hasher for every map of both sides: the same keys land in the same buckets.
    let mut m = Map::with_capacity_and_hasher(n as usize, RandomState::new());
    let mut best = [[f64::MAX; OPS.len()]; 2];
    let mut expect = None;
    for rep in 0..=reps {
        let order = if rep % 2 == 0 { [0, 1] } else { [1, 0] };
        for side in order {
            let s = if side == 0 { &PLAIN } else { &CKPT };
            let (t, check) = workload(s, &mut m, n, save_at);
            match expect {
                None => expect = Some(check),
                Some(e) => assert_eq!(e, check, "both sides compute the same values"),
            }
            if rep > 0 {
                for (b, s) in best[side].iter_mut().zip(t) {
                    *b = b.min(s);
                }
            }
        }
    }

    // Items each op handles: n inserts, n gets, n/2 removes, n - n/2 items iterated.
    let half = n / 2;
    let items = [n, n, n, half, n - half, n - half];
    let ns = |s: f64, i: usize| s * 1e9 / items[i] as f64;
    println!("map_bench: std HashMap<u64, u64>, n = {n} (best of {reps}, after one warm-up)");
    println!(
        "{:<14} {:>10} {:>10} {:>10} {:>10} {:>7}",
        "op", "plain ms", "ns/item", "ckpt ms", "ns/item", "ratio"
    );
    let mut result = format!("RESULT n={n}");
    for (i, op) in OPS.iter().enumerate() {
        let (p, c) = (best[0][i], best[1][i]);
        let ratio = c / p;
        println!(
            "{op:<14} {:>10.2} {:>10.2} {:>10.2} {:>10.2} {ratio:>7.3}",
            p * 1e3,
            ns(p, i),
            c * 1e3,
            ns(c, i)
        );
        result.push_str(&format!(
            " {op}_plain_ns={:.3} {op}_ckpt_ns={:.3} {op}_ratio={ratio:.3}",
            ns(p, i),
            ns(c, i)
        ));
    }
    // Every op but the one with a point inside its map loop.
    let worst = (0..OPS.len() - 1)
        .map(|i| best[1][i] / best[0][i])
        .fold(0.0f64, f64::max);
    println!(
        "worst ratio without a point in the map loop: {worst:.3} (target <= 1.10: {})",
        if worst <= 1.10 { "met" } else { "missed" }
    );
    result.push_str(&format!(" worst_ratio={worst:.3}"));
    println!("{result}");
}
