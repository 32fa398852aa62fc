//! A sieve of Eratosthenes with index-based `while` and `for i in 0..n` loops over a
//! `Vec<bool>`, saving every 50 numbers and printing the primes found so far.
#[ckpt::checkpointable]
fn main() {
    let limit = 500;
    let mut is_prime = vec![true; limit + 1];
    is_prime[0] = false;
    is_prime[1] = false;
    let mut p = 2;
    while p * p <= limit {
        if is_prime[p] {
            let mut m = p * p;
            while m <= limit {
                is_prime[m] = false;
                m += p;
            }
        }
        p += 1;
    }
    let mut count = 0;
    let mut last = 0;
    for i in 0..=limit {
        if is_prime[i] {
            count += 1;
            last = i;
        }
        if i % 50 == 49 {
            ckpt::save().expect("checkpoint");
            println!("primes below {}: {count} (largest {last})", i + 1);
        }
    }
    println!("{count} primes up to {limit}");
}
