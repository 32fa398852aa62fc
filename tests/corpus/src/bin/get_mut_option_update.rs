//! `if let Some(acc) = map.get_mut(&k)` updates in a BTreeMap and a Vec via
//! `iter_mut().find(..)`, with saves between updates.
use std::collections::BTreeMap;

#[derive(Debug, ckpt::State)]
struct Stock {
    sku: String,
    qty: i32,
}

#[ckpt::checkpointable]
fn main() {
    let mut prices: BTreeMap<String, f64> = BTreeMap::new();
    prices.insert("apple".into(), 0.5);
    prices.insert("pear".into(), 0.75);
    let mut stock = vec![
        Stock {
            sku: "apple".into(),
            qty: 10,
        },
        Stock {
            sku: "pear".into(),
            qty: 4,
        },
    ];
    let orders = [("apple", 3), ("pear", 1), ("plum", 2), ("apple", 5)];
    for (sku, n) in orders {
        if let Some(p) = prices.get_mut(sku) {
            *p *= 1.1;
        }
        match stock.iter_mut().find(|s| s.sku == sku) {
            Some(s) => s.qty -= n,
            None => println!("unknown {sku}"),
        }
        ckpt::save().expect("checkpoint");
        println!("after {sku}: {:?}", stock);
    }
    for (k, v) in &prices {
        println!("{k}: {v:.3}");
    }
}
