//! Writes `report.txt` through `BufWriter::new(File::create(..))` with `writeln!`,
//! saving between lines; progress goes to stdout.
use std::fs::File;
use std::io::{BufWriter, Write};

#[ckpt::checkpointable]
fn main() {
    let file = File::create("report.txt").expect("create report");
    let mut out = BufWriter::new(file);
    writeln!(out, "n,prime,divisors").unwrap();
    let mut primes = 0;
    for n in 2..=40u32 {
        let divisors = (1..=n).filter(|d| n % d == 0).count();
        let prime = divisors == 2;
        if prime {
            primes += 1;
        }
        writeln!(out, "{n},{prime},{divisors}").unwrap();
        if n % 4 == 0 {
            ckpt::save().expect("checkpoint");
            println!("written up to {n}: {primes} primes");
        }
    }
    writeln!(out, "# {primes} primes").unwrap();
    out.flush().unwrap();
    println!("report done");
}
