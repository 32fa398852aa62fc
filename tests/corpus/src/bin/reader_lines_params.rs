//! Helpers that read a file line by line through `BufReader::lines()`, one taking the
//! reader by value and one by `&mut`, each saving after every line.
use std::fs::File;
use std::io::{BufRead, BufReader};

#[ckpt::checkpointable]
fn sum_numbers(reader: BufReader<File>) -> std::io::Result<i64> {
    let mut total = 0;
    for line in reader.lines() {
        let line = line?;
        if let Ok(n) = line.trim().parse::<i64>() {
            total += n;
        }
        println!("running total {total}");
        ckpt::save().map_err(std::io::Error::other)?;
    }
    Ok(total)
}

#[ckpt::checkpointable]
fn longest_line(reader: &mut BufReader<File>) -> std::io::Result<usize> {
    let mut longest = 0;
    for line in reader.lines() {
        let line = line?;
        longest = longest.max(line.len());
        println!("longest so far {longest}");
        ckpt::save().map_err(std::io::Error::other)?;
    }
    Ok(longest)
}

#[ckpt::checkpointable]
fn main() -> std::io::Result<()> {
    let text: String = (1..=30).map(|i| format!("{}\n", i * i)).collect();
    std::fs::write("numbers.txt", text)?;
    let total = sum_numbers(BufReader::new(File::open("numbers.txt")?))?;
    println!("total {total}");
    let mut reader = BufReader::new(File::open("numbers.txt")?);
    let longest = longest_line(&mut reader)?;
    println!("longest {longest}");
    Ok(())
}
