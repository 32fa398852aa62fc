//! A generic container with methods that save (a by-value `K` moved into a field before
//! the save), a plain function that moves its by-value arguments (types without
//! `Default`) into a vector before saving, and a generic free function called with a borrowed temporary array.
use std::collections::HashMap;
use std::fmt::Display;

#[derive(ckpt::State)]
struct Ledger<K, V> {
    entries: Vec<(K, V)>,
    index: HashMap<String, usize>,
}

#[ckpt::checkpointable]
impl<K: Display + Clone, V: Copy + std::ops::Add<Output = V> + Display> Ledger<K, V> {
    fn new() -> Self {
        Ledger {
            entries: Vec::new(),
            index: HashMap::new(),
        }
    }

    fn record(&mut self, k: K, v: V) {
        self.index.insert(k.to_string(), self.entries.len());
        self.entries.push((k, v));
        ckpt::save().expect("checkpoint");
    }

    fn total(&self, zero: V) -> V {
        let mut t = zero;
        for (k, v) in &self.entries {
            t = t + *v;
            ckpt::save().expect("checkpoint");
            println!("  running {k}: {t}");
        }
        t
    }
}

#[ckpt::checkpointable]
fn largest<T: PartialOrd + Copy + Display>(items: &[T]) -> T {
    let mut best = items[0];
    for &it in items {
        if it > best {
            best = it;
        }
        ckpt::save().expect("checkpoint");
    }
    best
}

#[derive(ckpt::State, Debug)]
struct Note {
    text: String,
    day: u32,
}

#[derive(ckpt::State, Debug)]
enum Mark {
    Tagged(String),
    Plain,
}

#[ckpt::checkpointable]
fn keep(notes: &mut Vec<(Note, Mark)>, note: Note, mark: Mark) {
    notes.push((note, mark));
    ckpt::save().expect("checkpoint");
    println!("kept {} notes", notes.len());
}

#[ckpt::checkpointable]
fn main() {
    let mut notes = Vec::new();
    for day in 1..4 {
        let mark = if day % 2 == 0 {
            Mark::Plain
        } else {
            Mark::Tagged(format!("t{day}"))
        };
        keep(
            &mut notes,
            Note {
                text: format!("day {day}"),
                day,
            },
            mark,
        );
    }
    println!("{notes:?}");
    let mut l: Ledger<String, f64> = Ledger::new();
    for (i, name) in ["rent", "food", "fuel", "books"].iter().enumerate() {
        l.record(name.to_string(), (i as f64 + 1.5) * 10.0);
        println!("recorded {name}");
    }
    let t = l.total(0.0);
    println!("total {t}");
    let nums = vec![4, 8, 15, 16, 23, 42, 7];
    println!("largest {}", largest(&nums));
    println!("largest char {}", largest(&['q', 'z', 'a']));
    println!("index of fuel: {}", l.index["fuel"]);
}
