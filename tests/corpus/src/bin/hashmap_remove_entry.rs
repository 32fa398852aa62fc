//! A big `HashMap<u64, u64>`: filled, thinned out with `remove`, then bucketed with the
//! entry API, saving every few thousand operations.
use std::collections::HashMap;

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[ckpt::checkpointable]
fn main() {
    let mut seed = 88172645463325252u64;
    let mut map: HashMap<u64, u64> = HashMap::new();
    for i in 0..10_000u64 {
        map.insert(i, xorshift(&mut seed) % 1000);
        if i % 2000 == 1999 {
            ckpt::save().expect("checkpoint");
            println!("inserted {} keys", map.len());
        }
    }
    let mut removed_sum = 0;
    for i in (0..10_000u64).step_by(3) {
        if let Some(v) = map.remove(&i) {
            removed_sum += v;
        }
        if i % 2001 == 0 {
            ckpt::save().expect("checkpoint");
            println!(
                "removed up to key {i}: {} left, removed sum {removed_sum}",
                map.len()
            );
        }
    }
    let mut buckets: HashMap<u64, u32> = HashMap::new();
    for (n, v) in map.values().enumerate() {
        *buckets.entry(v % 10).or_insert(0) += 1;
        if n % 2500 == 0 {
            ckpt::save().expect("checkpoint");
            println!("bucketed {n} values");
        }
    }
    let mut b: Vec<(u64, u32)> = buckets.into_iter().collect();
    b.sort();
    println!("buckets by last digit: {:?}", b);
    let remaining: u64 = map.values().sum();
    println!(
        "{} keys remain, sum {remaining}, removed sum {removed_sum}",
        map.len()
    );
}
