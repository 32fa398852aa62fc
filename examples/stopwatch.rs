//! Measures its own running time with `ckpt::time::Instant` across checkpoints. Killed
//! and restored, it reports the time it ran, not the time it was down (set
//! `CKPT_TIME=wall` at the restore to count the downtime too).
//!
//! ```text
//! cargo run --example stopwatch -- --steps 50
//! kill -9 <pid>        # at any moment; wait a while
//! cargo run --example stopwatch -- --restore stopwatch.ckpt
//! ```

fn steps_from_args() -> u64 {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == "--steps") {
        Some(i) => match args.get(i + 1).and_then(|s| s.parse().ok()) {
            Some(n) => n,
            None => {
                eprintln!("usage: stopwatch [--steps N]");
                std::process::exit(2);
            }
        },
        None => 20,
    }
}

/// A little work: about 20 ms of sleeping and a checksum.
fn work(i: u64) -> u64 {
    ckpt::time::sleep(ckpt::time::Duration::from_millis(20));
    (0..1000u64).fold(i, |acc, x| acc.wrapping_mul(31).wrapping_add(x))
}

#[ckpt::checkpointable]
fn main() {
    let steps = steps_from_args();
    let start = ckpt::time::Instant::now();
    let mut sum = 0u64;
    let mut i = 0u64;
    while i < steps {
        sum = sum.wrapping_add(work(i));
        i += 1;
        ckpt::save().expect("checkpoint");
    }
    let elapsed = start.elapsed();
    println!("checksum {sum:x}");
    println!("result: steps={steps}");
    println!("elapsed_ms={}", elapsed.as_millis());
}
