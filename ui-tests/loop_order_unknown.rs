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
    // A chain whose closure owns its state (`move`) cannot be applied item by item.
    let scores: HashMap<String, u32> = HashMap::new();
    let mut seen = 0;
    for s in scores.values().filter(move |s| {
        seen += 1;
        **s > seen
    }) {
        ckpt::save().unwrap();
        println!("{s}");
    }
}
