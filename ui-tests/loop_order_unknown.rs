// A `for` whose iterator ckpt cannot make again in the same order, with a save inside.
use std::collections::HashMap;

#[ckpt::checkpointable]
fn main() {
    // An iterator in a local, made by a closure that keeps state: it cannot be made again.
    let mut k = 0;
    let gen = std::iter::from_fn(move || {
        k += 1;
        (k < 5).then_some(k)
    });
    for n in gen {
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
