//! Opens its inputs through plain helpers, so the readers' types are nowhere in `main`:
//! one returns `io::Result<BufReader<File>>`, one `io::Result<File>` that `main` wraps in
//! a `BufReader`; both are read with `for line in reader.lines()`, saving every few lines
//! (in the second loop before the line's `io::Result` is taken apart).
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader};

fn open_input(path: &str) -> io::Result<BufReader<File>> {
    let file = File::open(path)?;
    Ok(BufReader::new(file))
}

fn open_file(path: &str) -> io::Result<File> {
    File::open(path)
}

#[ckpt::checkpointable]
fn main() -> io::Result<()> {
    let text: String = (1..=30)
        .map(|i| format!("{i} {}\n", (i * 37) % 17))
        .collect();
    fs::write("input.txt", &text)?;
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
    let again = BufReader::new(open_file("input.txt")?);
    let mut longest = String::new();
    for (n, line) in again.lines().enumerate() {
        // The line (an `io::Result<String>`) is taken apart after the save.
        if n % 4 == 0 {
            ckpt::save().expect("checkpoint");
        }
        let line = line?;
        if line.len() > longest.len() {
            longest = line.clone();
        }
        if line.starts_with('1') {
            println!("at {line}, longest so far {longest}");
        }
    }
    println!("longest {longest}");
    Ok(())
}
