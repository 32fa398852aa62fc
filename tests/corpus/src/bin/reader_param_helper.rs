//! A helper takes the reader by its imported type (`&mut BufReader<File>`) and sums the
//! numbers it reads line by line with `read_line`, saving every few lines; `main` opens
//! the file and lends the reader.
use std::fs::{self, File};
use std::io::{BufRead, BufReader};

#[ckpt::checkpointable]
fn sum_lines(reader: &mut BufReader<File>, every: u32) -> u64 {
    let mut total = 0u64;
    let mut lines = 0u32;
    let mut line = String::new();
    while reader.read_line(&mut line).expect("read line") > 0 {
        total += line.trim().parse::<u64>().expect("a number");
        line.clear();
        lines += 1;
        if lines % every == 0 {
            ckpt::save().expect("checkpoint");
            println!("after {lines} lines: {total}");
        }
    }
    total
}

#[ckpt::checkpointable]
fn main() {
    let numbers: Vec<String> = (1..=40).map(|i| ((i * 7919) % 101).to_string()).collect();
    fs::write("numbers.txt", numbers.join("\n") + "\n").expect("write input");
    let mut reader = BufReader::new(File::open("numbers.txt").expect("open input"));
    let total = sum_lines(&mut reader, 4);
    println!("sum {total}");
}
