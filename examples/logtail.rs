//! Appends timestamped entries to a log, written against std only (plus `ckpt::save()`).
//!
//! ```text
//! logtail LOG [--entries N] [--interval-ms M] [--save-every K]
//! ```
//!
//! Each step computes the next value of a running checksum, appends the line
//! `entry <i> t=<ms since start> <checksum>` to LOG (opened once in append mode and kept
//! open across saves behind a `BufWriter`, flushed every few entries), rewrites the small
//! state file `LOG.state` with `std::fs::write`, prints `entry <i>` to stdout, sleeps M ms
//! and checkpoints every K steps. The time comes from `std::time::Instant`, which
//! `#[checkpointable]` routes to ckpt's virtual monotonic clock: across a restore it
//! continues from the save and leaves the downtime out (`CKPT_TIME=wall` at the restore
//! counts it in).
//!
//! ```text
//! cargo run --example logtail -- app.log --entries 200 --interval-ms 50
//! tail -f app.log      # in another shell; then at any moment:
//! kill -9 <pid>
//! cargo run --example logtail -- --restore logtail.ckpt
//! ```
//!
//! After any number of kills and restores, `app.log` holds every entry exactly once, in
//! order, with the same checksums as an uninterrupted run: the restore cuts the log and
//! the state file back to their length at the save, so the entries written after it are
//! written once more, not twice. A restore refuses (status 2, `cannot restore: <path>`)
//! when the log was replaced by another file in the meantime.

use std::fs::OpenOptions;
use std::io::{BufWriter, Write};
use std::time::{Duration, Instant};

/// The log is flushed every this many entries, so saves see both an empty and a
/// non-empty `BufWriter` buffer.
const FLUSH_EVERY: u64 = 3;

fn usage() -> ! {
    eprintln!("usage: logtail LOG [--entries N] [--interval-ms M] [--save-every K]");
    std::process::exit(2)
}

#[derive(ckpt::State)]
struct Options {
    log: String,
    entries: u64,
    interval_ms: u64,
    save_every: u64,
}

fn parse(args: &[String]) -> Options {
    let mut log = None;
    let (mut entries, mut interval_ms, mut save_every) = (50, 20, 1);
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        let mut number = |min: u64| match it.next().and_then(|v| v.parse().ok()) {
            Some(n) if n >= min => n,
            _ => usage(),
        };
        match a.as_str() {
            "--entries" => entries = number(0),
            "--interval-ms" => interval_ms = number(0),
            "--save-every" => save_every = number(1),
            s if s.starts_with('-') || log.is_some() => usage(),
            s => log = Some(s.to_string()),
        }
    }
    Options {
        log: log.unwrap_or_else(|| usage()),
        entries,
        interval_ms,
        save_every,
    }
}

/// The next value of the running checksum (a splitmix64 step over the entry number).
fn mix(sum: u64, i: u64) -> u64 {
    let mut z = sum ^ i.wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[ckpt::checkpointable]
fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let opts = parse(&args);
    let state = format!("{}.state", opts.log);
    let interval = Duration::from_millis(opts.interval_ms);

    let start = Instant::now();
    let mut log = BufWriter::new(
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&opts.log)?,
    );
    let mut sum = 0u64;
    let mut i = 0u64;
    while i < opts.entries {
        sum = mix(sum, i);
        let t = start.elapsed().as_millis();
        writeln!(log, "entry {i} t={t} {sum:016x}")?;
        if i % FLUSH_EVERY == FLUSH_EVERY - 1 {
            log.flush()?;
        }
        std::fs::write(&state, format!("next {} checksum {sum:016x}\n", i + 1))?;
        println!("entry {i}");
        i += 1;
        std::thread::sleep(interval);
        if i % opts.save_every == 0 {
            ckpt::save().expect("checkpoint");
        }
    }
    log.flush()?;
    println!("result: {} entries, checksum {sum:016x}", opts.entries);
    Ok(())
}
