//! A batch job that checkpoints only when asked: `ckpt::safepoint()` in its loop costs
//! one atomic load until a checkpoint is requested by SIGTERM or SIGINT (checkpoint, then
//! exit 0 — what SLURM and Kubernetes send before they stop a job), SIGUSR1 (checkpoint
//! and continue), or `--ckpt-every 30s`.
//!
//! ```sh
//! cargo run --example batch -- 4000 > out.txt &
//! kill -TERM %1                        # "ckpt: SIGTERM: checkpoint saved ...", exit 0
//! cargo run --example batch -- --restore latest >> out.txt
//! ```
//!
//! Arguments: `STEPS` (default 4000), and `--stall-while FILE` to stop between steps while
//! FILE exists (at most a minute): a phase without a safepoint, which the grace period
//! (`--ckpt-grace`) ends.

use std::io::Write;

use ckpt::checkpointable;

/// One step of work: a run of xorshift rounds folded into the sum.
fn step(state: &mut u64, sum: &mut u64) {
    for _ in 0..20_000 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *sum = sum.wrapping_add(*state >> 11);
    }
}

#[checkpointable]
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let steps: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(4000);
    let stall: Option<String> = args
        .iter()
        .position(|a| a == "--stall-while")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut sum = 0u64;
    let mut out = std::io::stdout();
    for i in 0..steps {
        step(&mut state, &mut sum);
        if i % 100 == 0 {
            writeln!(out, "step {i}: {sum:016x}").expect("stdout");
        }
        if let Some(f) = &stall {
            let mut waited = 0;
            while std::path::Path::new(f).exists() && waited < 600 {
                std::thread::sleep(std::time::Duration::from_millis(100));
                waited += 1;
            }
        }
        ckpt::safepoint().expect("checkpoint");
    }
    writeln!(out, "done {steps} steps: {sum:016x}").expect("stdout");
}
