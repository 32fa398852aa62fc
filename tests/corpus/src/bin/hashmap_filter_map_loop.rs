//! Walks a `HashMap` of stock levels through iterator chains (`filter`, `map`,
//! `filter_map`, `copied().filter`) with a save point in each loop body, and totals what
//! it sees (in ways that do not depend on the map's order).
use std::collections::HashMap;

#[ckpt::checkpointable]
fn main() {
    let mut stock: HashMap<String, u32> = HashMap::new();
    for (i, name) in [
        "apple", "pear", "plum", "fig", "kiwi", "lime", "date", "nut",
    ]
    .iter()
    .enumerate()
    {
        stock.insert(name.to_string(), (i as u32 * 7) % 11 + 1);
    }
    let threshold = 5;
    let mut low_total = 0;
    let mut low_names: Vec<String> = Vec::new();
    for (name, count) in stock.iter().filter(|(_, c)| **c < threshold) {
        low_total += count;
        low_names.push(name.clone());
        ckpt::save().expect("checkpoint");
    }
    low_names.sort();
    println!("low stock: {low_names:?} ({low_total} items)");

    let mut doubled = 0;
    for n in stock.values().map(|c| c * 2) {
        doubled += n;
        ckpt::save().expect("checkpoint");
    }
    println!("doubled total: {doubled}");

    let mut long_names = 0;
    for len in stock
        .keys()
        .filter_map(|k| if k.len() > 3 { Some(k.len()) } else { None })
    {
        long_names += len;
        ckpt::save().expect("checkpoint");
    }
    println!("letters in long names: {long_names}");

    let mut plenty = 0;
    for count in stock.values().copied().filter(|c| *c > 2) {
        plenty += count;
        ckpt::save().expect("checkpoint");
    }
    println!("items in well-stocked lines: {plenty}");
}
