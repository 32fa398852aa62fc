//! `fn main() -> Result<(), Box<dyn std::error::Error>>` with `ckpt::save()?` and other
//! `?`s (number parsing) in main and in a helper returning `Box<dyn Error>`.
use std::error::Error;

#[ckpt::checkpointable]
fn collatz_len(start: &str) -> Result<u32, Box<dyn Error>> {
    let mut n: u64 = start.parse()?;
    let mut steps = 0;
    while n != 1 {
        n = if n % 2 == 0 { n / 2 } else { 3 * n + 1 };
        steps += 1;
        if steps % 40 == 0 {
            ckpt::save()?;
            println!("  {start}: {steps} steps so far, at {n}");
        }
    }
    Ok(steps)
}

#[ckpt::checkpointable]
fn main() -> Result<(), Box<dyn Error>> {
    let inputs = "27 97 871 6171 12";
    let mut best = (0u64, 0u32);
    for word in inputs.split(' ') {
        let len = collatz_len(word)?;
        let n: u64 = word.parse()?;
        ckpt::save()?;
        println!("collatz({n}) takes {len} steps");
        if len > best.1 {
            best = (n, len);
        }
    }
    println!("longest: {} with {} steps", best.0, best.1);
    Ok(())
}
