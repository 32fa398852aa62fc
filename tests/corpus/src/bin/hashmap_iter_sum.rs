//! Iterating a std `HashMap` with `for (name, qty) in &stock` and a save inside; the
//! output only uses order-independent results (a count, a sum, a sorted copy).
use std::collections::HashMap;

#[ckpt::checkpointable]
fn main() {
    let fruits = [
        "apple",
        "banana",
        "cherry",
        "date",
        "elderberry",
        "fig",
        "grape",
        "honeydew",
        "kiwi",
        "lemon",
        "mango",
        "nectarine",
        "orange",
        "papaya",
        "quince",
        "raspberry",
    ];
    let mut stock: HashMap<String, u32> = HashMap::new();
    for (i, name) in fruits.iter().enumerate() {
        stock.insert(name.to_string(), (i as u32 * 17) % 23 + 1);
    }
    let mut total = 0;
    let mut low = Vec::new();
    let mut visited = 0;
    for (name, qty) in &stock {
        total += qty;
        visited += 1;
        if *qty < 8 {
            low.push(name.clone());
        }
        if visited % 2 == 0 {
            ckpt::save().expect("checkpoint");
            println!("visited {visited} of {} items", stock.len());
        }
    }
    low.sort();
    println!("total {total}; low stock: {}", low.join(", "));
    for qty in stock.values_mut() {
        *qty += 5;
    }
    let mut sorted: Vec<(&String, &u32)> = stock.iter().collect();
    sorted.sort();
    for (name, qty) in sorted {
        println!("{name}: {qty}");
    }
}
