//! `fn main() -> std::io::Result<()>` with `ckpt::save()?` next to `std::fs::write` and
//! `std::fs::read_to_string` errors propagated with `?`.
use std::fs;
use std::io;

#[ckpt::checkpointable]
fn main() -> io::Result<()> {
    let mut lines = Vec::new();
    for i in 1..=10 {
        lines.push(format!("{i} squared is {}", i * i));
        fs::write("squares.txt", lines.join("\n") + "\n")?;
        ckpt::save()?;
        println!("wrote {} lines", lines.len());
    }
    let back = fs::read_to_string("squares.txt")?;
    let total: u64 = back
        .lines()
        .filter_map(|l| l.rsplit(' ').next())
        .filter_map(|w| w.parse::<u64>().ok())
        .sum();
    println!("sum of squares read back: {total}");
    Ok(())
}
