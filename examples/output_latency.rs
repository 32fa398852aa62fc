//! Measures what the output commit of a recorded run (`--ckpt-record`) adds to the time a
//! line takes to reach the reader of a pipe.
//!
//! The writer prints `--lines N` lines, one every `--gap-us` microseconds, each carrying
//! the moment it was printed (the real monotonic clock, which the reader shares) and
//! reading ckpt's clock once (an input the log must hold before the line may leave). The
//! reader (`--read`) takes the lines from standard input and prints the median, 90th and
//! 99th percentile of arrival minus print time.
//!
//! ```sh
//! cargo run --release --example output_latency -- --lines 2000 \
//!     | cargo run --release --example output_latency -- --read
//! cargo run --release --example output_latency -- --lines 2000 --ckpt-record /tmp/l.log \
//!     | cargo run --release --example output_latency -- --read
//! ```
//!
//! `scripts/bench-replay.sh` runs both (and with `--ckpt-log-sync`) and prints the
//! difference.

use std::io::BufRead;

/// The real monotonic clock, in nanoseconds (not ckpt's virtual one: the reader is
/// another process).
fn real_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn value(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn read_side() {
    let mut lat: Vec<u64> = Vec::new();
    for line in std::io::stdin().lock().lines() {
        let now = real_ns();
        let Ok(line) = line else { break };
        if let Some(sent) = line.split(' ').next().and_then(|t| t.parse::<u64>().ok()) {
            lat.push(now.saturating_sub(sent));
        }
    }
    if lat.is_empty() {
        println!("no lines");
        return;
    }
    lat.sort_unstable();
    let at = |p: usize| lat[(lat.len() * p / 100).min(lat.len() - 1)] as f64 / 1000.0;
    println!(
        "lines {} latency_us p50 {:.1} p90 {:.1} p99 {:.1}",
        lat.len(),
        at(50),
        at(90),
        at(99)
    );
}

#[ckpt::checkpointable]
fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--read") {
        read_side();
        return;
    }
    let lines = value(&args, "--lines", 2000);
    let gap = std::time::Duration::from_micros(value(&args, "--gap-us", 200));
    for i in 0..lines {
        std::thread::sleep(gap);
        // An input: while recording, the line leaves only once this reading is logged.
        let _reading = std::time::Instant::now();
        println!("{} line {i}", real_ns());
    }
}
