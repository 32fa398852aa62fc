//! Statistics of the lines on standard input, with a checkpoint every few lines.
//!
//! ```text
//! linestats [--save-every LINES] < input.txt
//! ```
//!
//! Written against std only (plus `ckpt::save()`): `io::stdin().lock().lines()` inside
//! `#[checkpointable]` code is ckpt's standard input, whose buffered bytes are saved and
//! whose offset is restored when standard input is the same file, so
//! `linestats --restore linestats.ckpt < input.txt` after a `kill -9` prints what an
//! uninterrupted run prints.

use std::collections::HashMap;
use std::io::{self, BufRead};

#[derive(ckpt::State, Default)]
struct Stats {
    lines: u64,
    bytes: u64,
    longest: usize,
    checksum: u64,
}

#[ckpt::checkpointable]
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let save_every: u64 = match args.get(1).map(String::as_str) {
        None => 1000,
        Some("--save-every") => match args.get(2).and_then(|v| v.parse().ok()) {
            Some(n) if n > 0 => n,
            _ => usage(),
        },
        Some(_) => usage(),
    };
    let mut stats = Stats::default();
    let mut first_words: HashMap<String, u64> = HashMap::new();
    for line in io::stdin().lock().lines() {
        let line = line.expect("read standard input");
        stats.lines += 1;
        stats.bytes += line.len() as u64 + 1;
        stats.longest = stats.longest.max(line.len());
        for b in line.bytes() {
            stats.checksum = stats.checksum.wrapping_mul(31).wrapping_add(u64::from(b));
        }
        if let Some(w) = line.split_whitespace().next() {
            *first_words.entry(w.to_string()).or_insert(0) += 1;
        }
        if stats.lines % save_every == 0 {
            println!("{} lines", stats.lines);
            ckpt::save().expect("checkpoint");
        }
    }
    let mut top: Vec<(&String, &u64)> = first_words.iter().collect();
    top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let top: Vec<String> = top
        .iter()
        .take(3)
        .map(|(w, n)| format!("{w}={n}"))
        .collect();
    println!(
        "result: {} lines, {} bytes, longest {}, checksum {:016x}, top {}",
        stats.lines,
        stats.bytes,
        stats.longest,
        stats.checksum,
        top.join(",")
    );
}

fn usage() -> ! {
    eprintln!("usage: linestats [--save-every LINES] < input");
    std::process::exit(2)
}
