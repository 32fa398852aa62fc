//! Estimates π by Monte Carlo sampling and keeps a histogram of the samples' distance
//! from the origin. Checkpoints inside a helper, several calls deep.
//!
//! ```text
//! cargo run --release --example montecarlo -- --steps 50000000
//! kill -9 <pid>        # at any moment
//! cargo run --release --example montecarlo -- --restore montecarlo.ckpt
//! ```
use std::collections::HashMap;

use ckpt::checkpointable;

/// A xorshift64* generator that lives in the program, so its state is checkpointed.
#[derive(ckpt::State)]
struct Rng {
    s: u64,
}

impl Rng {
    fn new(seed: u64) -> Self {
        Rng {
            s: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
        }
    }
    fn next_u64(&mut self) -> u64 {
        self.s ^= self.s >> 12;
        self.s ^= self.s << 25;
        self.s ^= self.s >> 27;
        self.s.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[derive(ckpt::State)]
struct Stats {
    inside: u64,
    total: u64,
    /// Distance from the origin, 64 bins over [0, √2).
    hist: Vec<f64>,
    /// How many samples fell in each quadrant-octant cell.
    cells: HashMap<u32, u64>,
}

/// Draws `n` samples; checkpoints every `save_every` of them.
#[checkpointable]
fn batch(rng: &mut Rng, stats: &mut Stats, n: u64, save_every: u64) -> Result<(), ckpt::Error> {
    let mut i = 0u64;
    while i < n {
        let (x, y) = (rng.next_f64(), rng.next_f64());
        let d2 = x * x + y * y;
        if d2 <= 1.0 {
            stats.inside += 1;
        }
        stats.total += 1;
        let bin = ((d2.sqrt() / std::f64::consts::SQRT_2) * 64.0) as usize;
        stats.hist[bin.min(63)] += 1.0;
        *stats
            .cells
            .entry(((x * 4.0) as u32) * 4 + (y * 4.0) as u32)
            .or_insert(0) += 1;
        i += 1;
        if i % save_every == 0 {
            ckpt::save()?;
        }
    }
    Ok(())
}

fn steps_from_args() -> u64 {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == "--steps") {
        Some(i) => match args.get(i + 1).and_then(|s| s.parse().ok()) {
            Some(n) => n,
            None => {
                eprintln!("usage: montecarlo [--steps N]");
                std::process::exit(2);
            }
        },
        None => 20_000_000,
    }
}

#[checkpointable]
fn main() {
    let steps = steps_from_args();
    let rounds = 20u64;
    let per_round = (steps / rounds).max(1);
    let mut rng = Rng::new(2024);
    let mut stats = Stats {
        inside: 0,
        total: 0,
        hist: vec![0.0; 64],
        cells: HashMap::new(),
    };
    for round in 0..rounds {
        batch(&mut rng, &mut stats, per_round, (per_round / 4).max(1)).expect("checkpoint");
        let pi = 4.0 * stats.inside as f64 / stats.total as f64;
        println!(
            "round {:>2}/{rounds}: {} samples, pi ~ {pi:.6}",
            round + 1,
            stats.total
        );
    }
    let mut cells: Vec<(u32, u64)> = stats.cells.iter().map(|(k, v)| (*k, *v)).collect();
    cells.sort();
    let hist_sum: f64 = stats
        .hist
        .iter()
        .enumerate()
        .map(|(i, c)| i as f64 * c)
        .sum();
    println!(
        "result: pi = {:.10} from {} samples; histogram moment {hist_sum}; cells {cells:?}",
        4.0 * stats.inside as f64 / stats.total as f64,
        stats.total
    );
}
