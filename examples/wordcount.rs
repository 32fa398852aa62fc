//! Counts the words of a generated text into a `ckpt::collections::HashMap`, then walks
//! the map with a save point inside the `for` loop. The map iterates in insertion
//! order, exactly the same after a restore, so the loop resumes by position and the
//! order-dependent checksum printed at the end is the same for every run, killed and
//! restored or not.
//!
//! ```text
//! cargo run --example wordcount -- --words 2000000
//! kill -9 <pid>        # at any moment
//! cargo run --example wordcount -- --restore wordcount.ckpt
//! ```
use ckpt::collections::HashMap;

const SYLLABLES: [&str; 16] = [
    "ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "be", "da", "fu", "gi", "ho", "ju", "pe", "zo",
];

/// The `i`-th word of the text: a skewed draw from a xorshift stream, so some words are
/// frequent and many are rare.
fn word(i: u64) -> String {
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    x = x.wrapping_mul(0x2545_F491_4F6C_DD1D);
    let n = (x >> 40) % (1 + (x >> 20) % 40_000);
    let mut w = String::new();
    let mut k = n;
    loop {
        w.push_str(SYLLABLES[(k % 16) as usize]);
        k /= 16;
        if k == 0 {
            return w;
        }
    }
}

/// FNV-1a of `s`, iterated `rounds` times: the per-entry work of the report loop.
fn digest(s: &str, rounds: u32) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for _ in 0..rounds {
        for b in s.bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

fn words_from_args() -> u64 {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == "--words") {
        Some(i) => match args.get(i + 1).and_then(|s| s.parse().ok()) {
            Some(n) => n,
            None => {
                eprintln!("usage: wordcount [--words N]");
                std::process::exit(2);
            }
        },
        None => 400_000,
    }
}

#[ckpt::checkpointable]
fn main() {
    let words = words_from_args();
    let mut counts: HashMap<String, u64> = HashMap::new();
    let mut i = 0u64;
    while i < words {
        *counts.entry(word(i)).or_insert(0) += 1;
        i += 1;
        if i % 20_000 == 0 {
            ckpt::save().expect("checkpoint");
        }
        if i % (words / 5).max(1) == 0 {
            println!("counted {i} words, {} distinct", counts.len());
        }
    }
    // Walk the map; the checksum depends on the iteration order.
    let mut checksum = 0u64;
    let mut seen = 0u64;
    let mut top = (String::new(), 0u64);
    for (w, c) in &counts {
        checksum = checksum.rotate_left(7) ^ digest(w, 150).wrapping_add(*c);
        if *c > top.1 {
            top = (w.clone(), *c);
        }
        seen += 1;
        if seen % 500 == 0 {
            ckpt::save().expect("checkpoint");
        }
        if seen % 5_000 == 0 {
            println!("reported {seen} words");
        }
    }
    println!(
        "result: {words} words, {} distinct, most frequent {:?} x{}, order checksum {checksum:016x}",
        counts.len(),
        top.0,
        top.1
    );
}
