//! Loops with saves over iterators of types nobody names: helpers returning `impl
//! Iterator` (with adapters on top), a method returning one that borrows the struct, a
//! boxed `dyn Iterator`, and std's `iter::zip`, `iter::repeat(..).take(..)` and
//! `iter::successors`.
use std::iter;

fn evens(limit: u64) -> impl Iterator<Item = u64> {
    (0..limit).filter(|n| n % 2 == 0)
}

fn squares_of(v: &[u32]) -> impl Iterator<Item = u32> + '_ {
    v.iter().map(|x| x * x)
}

fn countdown(from: i32) -> Box<dyn Iterator<Item = i32>> {
    Box::new((1..=from).rev())
}

#[derive(ckpt::State)]
struct Inventory {
    items: Vec<(String, u32)>,
}

impl Inventory {
    fn low_stock(&self, below: u32) -> impl Iterator<Item = &(String, u32)> + '_ {
        self.items.iter().filter(move |(_, n)| *n < below)
    }
}

#[ckpt::checkpointable]
fn main() {
    let mut total = 0;
    for n in evens(24) {
        total += n;
        if n % 4 == 0 {
            ckpt::save().expect("checkpoint");
            println!("n={n} total={total}");
        }
    }
    let data = vec![3, 1, 4, 1, 5, 9, 2, 6];
    let mut acc = Vec::new();
    for (i, s) in squares_of(&data).enumerate() {
        acc.push(s);
        ckpt::save().expect("checkpoint");
        println!("square {i}: {acc:?}");
    }
    for t in countdown(4) {
        ckpt::save().expect("checkpoint");
        println!("T-{t}");
    }
    let inv = Inventory {
        items: vec![
            ("bolts".into(), 3),
            ("nuts".into(), 40),
            ("gears".into(), 1),
            ("pins".into(), 7),
        ],
    };
    for (name, n) in inv.low_stock(10) {
        ckpt::save().expect("checkpoint");
        println!("reorder {name} ({n} left)");
    }
    let names = ["ann", "bob", "cy"];
    let ages = [31, 25, 47];
    for (name, age) in iter::zip(names, ages) {
        ckpt::save().expect("checkpoint");
        println!("{name} is {age}");
    }
    for x in iter::repeat("ab").take(3) {
        ckpt::save().expect("checkpoint");
        println!("repeat {x}");
    }
    for p in iter::successors(Some(1u64), |n| if *n < 200 { Some(n * 3) } else { None }) {
        ckpt::save().expect("checkpoint");
        println!("power {p}");
    }
}
