//! Iterator chains people write: skip/step_by, chain, rev+enumerate over chars,
//! take_while, flat_map, windows, and a sorted-keys loop over a HashMap field.
use std::collections::HashMap;

#[derive(ckpt::State)]
struct Tally {
    counts: HashMap<String, u32>,
}

impl Tally {
    fn add(&mut self, w: &str) {
        *self.counts.entry(w.to_string()).or_insert(0) += 1;
    }
}

#[ckpt::checkpointable]
fn main() {
    let v: Vec<i64> = (1..=30).collect();
    let w = vec![100, 200, 300];
    let mut sum = 0;
    for x in v.iter().skip(2).step_by(3) {
        sum += x;
        ckpt::save().expect("checkpoint");
        println!("step_by: {x} sum {sum}");
    }
    for x in v.iter().take(3).chain(w.iter()) {
        ckpt::save().expect("checkpoint");
        println!("chain: {x}");
    }
    for (i, c) in "checkpoint".chars().rev().enumerate() {
        if i % 3 == 0 {
            ckpt::save().expect("checkpoint");
        }
        println!("rev char {i}: {c}");
    }
    for x in v.iter().take_while(|x| **x < 6) {
        ckpt::save().expect("checkpoint");
        println!("small: {x}");
    }
    for (a, b) in (1..4).flat_map(|i| (1..=i).map(move |j| (i, j))) {
        ckpt::save().expect("checkpoint");
        println!("pair {a},{b}");
    }
    for pair in v.windows(2).filter(|p| p[0] % 7 == 0) {
        ckpt::save().expect("checkpoint");
        println!("window {pair:?}");
    }
    let mut t = Tally {
        counts: HashMap::new(),
    };
    for word in "the cat and the hat and the bat".split_whitespace() {
        t.add(word);
        ckpt::save().expect("checkpoint");
    }
    let mut keys: Vec<&String> = t.counts.keys().collect();
    keys.sort();
    for k in keys {
        ckpt::save().expect("checkpoint");
        println!("{k}: {}", t.counts[k]);
    }
    let text = "alpha\nbeta\ngamma\ndelta";
    for (n, line) in text.lines().enumerate() {
        ckpt::save().expect("checkpoint");
        println!("{n}: {}", line.to_uppercase());
    }
}
