//! The Rust book's guessing game with scripted guesses (binary search): `match
//! guess.cmp(&secret)` on `std::cmp::Ordering` with saves in the arms.
use std::cmp::Ordering;

#[ckpt::checkpointable]
fn main() {
    let secrets = [37u32, 88, 5, 61];
    let mut total_guesses = 0;
    for secret in secrets {
        println!("Guess the number!");
        let (mut lo, mut hi) = (1u32, 100u32);
        loop {
            let guess = (lo + hi) / 2;
            total_guesses += 1;
            println!("You guessed: {guess}");
            match guess.cmp(&secret) {
                Ordering::Less => {
                    ckpt::save().expect("checkpoint");
                    println!("Too small!");
                    lo = guess + 1;
                }
                Ordering::Greater => {
                    ckpt::save().expect("checkpoint");
                    println!("Too big!");
                    hi = guess - 1;
                }
                Ordering::Equal => {
                    println!("You win!");
                    break;
                }
            }
        }
    }
    println!("{total_guesses} guesses for {} secrets", secrets.len());
}
