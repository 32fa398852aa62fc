//! Tokens classified into an enum: a HashMap returned by a saving function, sorted keys,
//! `sort_by_key`, a closure called across saves, and a match on a tuple with a guard.
use std::collections::HashMap;

#[derive(Debug, ckpt::State, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Kind {
    Word,
    Number,
    Punct,
}

fn classify(tok: &str) -> Kind {
    if tok.chars().all(|c| c.is_ascii_digit()) {
        Kind::Number
    } else if tok.chars().all(|c| c.is_alphabetic()) {
        Kind::Word
    } else {
        Kind::Punct
    }
}

#[ckpt::checkpointable]
fn count_kinds(text: &str) -> HashMap<Kind, usize> {
    let mut counts = HashMap::new();
    for (i, tok) in text.split_whitespace().enumerate() {
        *counts.entry(classify(tok)).or_insert(0) += 1;
        if i % 4 == 0 {
            ckpt::save().expect("checkpoint");
        }
    }
    counts
}

#[ckpt::checkpointable]
fn main() {
    let text = "the 3 quick brown foxes , jumped over 12 lazy dogs ! and 7 cats ; ran away";
    let counts = count_kinds(text);
    let mut keys: Vec<_> = counts.keys().copied().collect();
    keys.sort();
    for k in &keys {
        ckpt::save().expect("checkpoint");
        println!("{k:?}: {}", counts[k]);
    }
    let mut words: Vec<&str> = text
        .split(' ')
        .filter(|w| classify(w) == Kind::Word)
        .collect();
    words.sort_by_key(|w| (w.len(), *w));
    let shout = |w: &str| w.to_uppercase();
    for w in words.iter().rev() {
        ckpt::save().expect("checkpoint");
        match (w.len(), w.starts_with('c')) {
            (n, true) => println!("{} starts with c ({n})", shout(w)),
            (n, false) if n > 4 => println!("{w} is long"),
            _ => println!("{w}"),
        }
    }
    let lengths: Vec<usize> = words.iter().map(|w| w.len()).collect();
    let mut acc = 0;
    for (i, l) in lengths.iter().enumerate() {
        acc += l * i;
        ckpt::save().expect("checkpoint");
    }
    println!("weighted {acc}");
}
