//! A type of the program with its own `fn iter(&self) -> impl Iterator`, next to a loop
//! with saves over a std HashMap's `iter()` (resumed by its keys, not by calling `iter()`
//! again: a rebuilt map iterates in another order).
use std::collections::HashMap;

struct Deck {
    cards: Vec<u32>,
}

impl Deck {
    fn iter(&self) -> impl Iterator<Item = &u32> + '_ {
        self.cards.iter().filter(|c| **c % 2 == 1)
    }
}

#[ckpt::checkpointable]
fn main() {
    let mut m: HashMap<String, u32> = HashMap::new();
    for i in 0..6 {
        m.insert(format!("k{i}"), i * i);
    }
    let mut seen = Vec::new();
    for (k, v) in m.iter() {
        seen.push(format!("{k}={v}"));
        ckpt::save().expect("checkpoint");
    }
    seen.sort();
    println!("{seen:?}");
    let d = Deck {
        cards: (1..8).collect(),
    };
    let mut odd = Vec::new();
    for c in d.cards.iter() {
        if d.iter().any(|x| x == c) {
            odd.push(*c);
        }
    }
    println!("{odd:?}");
}
