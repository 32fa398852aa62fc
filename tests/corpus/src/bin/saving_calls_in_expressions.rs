//! Several saving calls in one expression: `tick(&mut a)? + tick(&mut b)?`,
//! `if tick(&mut x)? % 3 == 0`, `match next_token(&mut s)? {..}`, struct fields from saving calls.
use std::error::Error;

#[derive(Debug, ckpt::State)]
struct Totals {
    left: u64,
    right: u64,
    both: u64,
}

#[ckpt::checkpointable]
fn tick(counter: &mut u64) -> Result<u64, Box<dyn Error>> {
    *counter += 1;
    ckpt::save()?;
    Ok(*counter * *counter)
}

#[ckpt::checkpointable]
fn next_token(pos: &mut usize) -> Result<Option<&'static str>, Box<dyn Error>> {
    const WORDS: [&str; 5] = ["let", "x", "=", "42", ";"];
    ckpt::save()?;
    let w = WORDS.get(*pos).copied();
    *pos += 1;
    Ok(w)
}

#[ckpt::checkpointable]
fn main() -> Result<(), Box<dyn Error>> {
    let mut a = 0;
    let mut b = 10;
    let sum = tick(&mut a)? + tick(&mut b)?;
    println!("sum of squares {sum}");
    let mut x = 0;
    for round in 0..4 {
        if tick(&mut x)? % 3 == 0 {
            println!("round {round}: x={x}, square divisible by 3");
        } else {
            println!("round {round}: x={x}");
        }
    }
    let mut s = 0;
    loop {
        match next_token(&mut s)? {
            Some(w) => println!("token {w:?}"),
            None => break,
        }
    }
    let t = Totals {
        left: tick(&mut a)?,
        right: tick(&mut b)?,
        both: tick(&mut a)? + tick(&mut b)?,
    };
    println!("{t:?} (a={a}, b={b})");
    println!("left + right = {}, both = {}", t.left + t.right, t.both);
    Ok(())
}
