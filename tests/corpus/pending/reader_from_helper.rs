//! Opens its input through a helper returning `io::Result<BufReader<File>>` (the reader's
//! type is nowhere in `main`), then `for line in reader.lines()`, saving every few lines.
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader};

fn open_input(path: &str) -> io::Result<BufReader<File>> {
    let file = File::open(path)?;
    Ok(BufReader::new(file))
}

#[ckpt::checkpointable]
fn main() {
    let text: String = (1..=30).map(|i| format!("{i} {}\n", (i * 37) % 17)).collect();
    fs::write("input.txt", &text).expect("write input");
    let reader = open_input("input.txt").expect("open input");
    let mut total = 0u64;
    for (n, line) in reader.lines().enumerate() {
        let line = line.expect("read line");
        let value: u64 = line.split(' ').nth(1).unwrap().parse().unwrap();
        total += value;
        if n % 3 == 2 {
            ckpt::save().expect("checkpoint");
            println!("read {} lines, total {total}", n + 1);
        }
    }
    println!("total {total}");
}
