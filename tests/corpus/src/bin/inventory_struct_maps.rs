//! A struct with std `HashMap`, `HashSet`, `BTreeMap` and `VecDeque` fields, built with
//! `HashMap::new()` and friends inside checkpointable code and updated across saves.
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

#[derive(ckpt::State)]
struct Warehouse {
    stock: HashMap<String, u32>,
    suppliers: HashSet<String>,
    price_list: BTreeMap<String, u32>,
    pending: VecDeque<(String, u32)>,
}

#[ckpt::checkpointable]
fn main() {
    let mut w = Warehouse {
        stock: HashMap::new(),
        suppliers: HashSet::new(),
        price_list: BTreeMap::new(),
        pending: VecDeque::new(),
    };
    let items = ["bolt", "nut", "washer", "screw", "rivet", "pin"];
    for i in 0..30u32 {
        let item = items[(i * 7 % 6) as usize];
        w.pending.push_back((item.to_string(), i % 9 + 1));
    }
    let mut processed = 0;
    while let Some((item, qty)) = w.pending.pop_front() {
        *w.stock.entry(item.clone()).or_insert(0) += qty;
        w.suppliers.insert(format!("supplier-{}", qty % 4));
        w.price_list.entry(item.clone()).or_insert(qty * 3);
        processed += 1;
        if processed % 3 == 0 {
            ckpt::save().expect("checkpoint");
            println!(
                "processed {processed}: {} kinds in stock, {} suppliers, {} pending",
                w.stock.len(),
                w.suppliers.len(),
                w.pending.len()
            );
        }
    }
    let mut items: Vec<(&String, &u32)> = w.stock.iter().collect();
    items.sort();
    for (name, qty) in items {
        println!("{name}: {qty} at {} each", w.price_list[name]);
    }
}
