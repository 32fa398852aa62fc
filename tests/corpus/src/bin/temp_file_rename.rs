//! Processes `numbers.txt` (which it writes first) into `results.tmp`, then
//! `fs::rename`s it to `results.txt` and `fs::remove_file`s the scratch input.
use std::fs::{self, File};
use std::io::{BufRead, BufReader, BufWriter, Write};

#[ckpt::checkpointable]
fn main() {
    let input: String = (1..=24).map(|i| format!("{}\n", i * 11 % 25)).collect();
    fs::write("numbers.txt", input).expect("write numbers");
    let reader = BufReader::new(File::open("numbers.txt").expect("open numbers"));
    let mut out = BufWriter::new(File::create("results.tmp").expect("create tmp"));
    let mut running = 0;
    for (i, line) in reader.lines().enumerate() {
        let n: u32 = line.expect("read").trim().parse().expect("number");
        running += n;
        writeln!(out, "{n} {running}").expect("write");
        if i % 3 == 0 {
            ckpt::save().expect("checkpoint");
            println!("processed {} numbers, running sum {running}", i + 1);
        }
    }
    out.flush().expect("flush");
    drop(out);
    fs::rename("results.tmp", "results.txt").expect("rename");
    fs::remove_file("numbers.txt").expect("remove input");
    println!("done: {running}");
}
