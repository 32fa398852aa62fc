// A `for` whose iterator ckpt cannot make again in the same order, with a save inside.
use std::collections::HashMap;

fn evens(limit: u32) -> impl Iterator<Item = u32> {
    (0..limit).filter(|n| n % 2 == 0)
}

#[ckpt::checkpointable]
fn main() {
    for n in evens(10) {
        ckpt::save().unwrap();
        println!("{n}");
    }
    let scores: HashMap<String, u32> = HashMap::new();
    for s in scores.values().filter(|s| **s > 3) {
        ckpt::save().unwrap();
        println!("{s}");
    }
}
