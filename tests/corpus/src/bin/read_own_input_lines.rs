//! Writes its own `input.txt`, then reads it back with `BufReader::new(File::open(..))`
//! and `for line in reader.lines()`, saving every few lines.
use std::fs::{self, File};
use std::io::{BufRead, BufReader};

#[ckpt::checkpointable]
fn main() {
    let mut text = String::new();
    for i in 1..=30 {
        text.push_str(&format!("{} {}\n", i, (i * 37) % 17));
    }
    fs::write("input.txt", &text).expect("write input");
    let reader = BufReader::new(File::open("input.txt").expect("open input"));
    let mut total = 0u64;
    let mut max = (0u64, 0u64);
    for (n, line) in reader.lines().enumerate() {
        let line = line.expect("read line");
        let mut parts = line.split(' ');
        let id: u64 = parts.next().unwrap().parse().unwrap();
        let value: u64 = parts.next().unwrap().parse().unwrap();
        total += value;
        if value > max.1 {
            max = (id, value);
        }
        if n % 3 == 2 {
            ckpt::save().expect("checkpoint");
            println!("read {} lines, total {total}", n + 1);
        }
    }
    println!("total {total}, max value {} at id {}", max.1, max.0);
}
