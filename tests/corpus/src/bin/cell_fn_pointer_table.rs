//! A `Cell<u32>` call counter shared by reference and a plain `fn(u64) -> u64` pointer
//! chosen from a table each iteration, both live across saves.
use std::cell::Cell;

fn double(x: u64) -> u64 {
    x * 2
}

fn triple_plus_one(x: u64) -> u64 {
    3 * x + 1
}

fn halve(x: u64) -> u64 {
    x / 2
}

fn square_mod(x: u64) -> u64 {
    (x * x) % 1009
}

const OPS: [(&str, fn(u64) -> u64); 4] = [
    ("double", double),
    ("triple+1", triple_plus_one),
    ("halve", halve),
    ("square mod 1009", square_mod),
];

fn apply(counter: &Cell<u32>, f: fn(u64) -> u64, x: u64) -> u64 {
    counter.set(counter.get() + 1);
    f(x)
}

#[ckpt::checkpointable]
fn main() {
    let calls = Cell::new(0u32);
    let mut x = 7u64;
    for i in 0..20 {
        let (name, op) = OPS[(x % 4) as usize];
        if i % 2 == 0 {
            ckpt::save().expect("checkpoint");
        }
        x = apply(&calls, op, x);
        println!("{i:>2}: {name:<16} -> {x}");
    }
    let chosen: fn(u64) -> u64 = if x % 2 == 0 { halve } else { double };
    ckpt::save().expect("checkpoint");
    println!(
        "final {x}, then {} after one more op; {} calls",
        chosen(x),
        calls.get()
    );
}
