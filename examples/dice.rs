//! Rolls dice with `ckpt::rand::Rng` and prints a histogram of the sums of two dice.
//! Checkpoints every 1000 rolls; the seed is fixed, so every run, killed and restored
//! or not, prints the same histogram.
//!
//! ```text
//! cargo run --example dice -- --rolls 5000000
//! kill -9 <pid>        # at any moment
//! cargo run --example dice -- --restore dice.ckpt
//! ```
use ckpt::rand::Rng;

fn rolls_from_args() -> u64 {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == "--rolls") {
        Some(i) => match args.get(i + 1).and_then(|s| s.parse().ok()) {
            Some(n) => n,
            None => {
                eprintln!("usage: dice [--rolls N]");
                std::process::exit(2);
            }
        },
        None => 1_000_000,
    }
}

#[ckpt::checkpointable]
fn main() {
    let rolls = rolls_from_args();
    let mut rng = Rng::seed_from(42);
    // Sums 2..=12 of two dice.
    let mut hist = [0u64; 11];
    let mut i = 0u64;
    while i < rolls {
        let sum = rng.gen_range(1..=6u32) + rng.gen_range(1..=6u32);
        hist[sum as usize - 2] += 1;
        i += 1;
        if i % 1000 == 0 {
            ckpt::save().expect("checkpoint");
        }
        if i % (rolls / 10).max(1) == 0 {
            println!("{i} rolls");
        }
    }
    for (sum, n) in hist.iter().enumerate() {
        let bar = "#".repeat((n * 200 / rolls.max(1)) as usize);
        println!("{:>2} {n:>9} {bar}", sum + 2);
    }
    println!(
        "result: {rolls} rolls, draws {}, histogram {hist:?}",
        rng.draws()
    );
}
