//! A small warehouse simulation: a struct with a `Vec` of orders, a `HashMap` of stock and
//! a `VecDeque` of backorders; methods that call each other and save; nested loops,
//! `match` with guards, early `continue`, and a summary built with iterator chains.
use std::collections::{HashMap, VecDeque};

#[derive(Debug, Clone, ckpt::State)]
struct Order {
    id: u32,
    sku: String,
    qty: u32,
}

#[derive(ckpt::State, Default)]
struct Warehouse {
    stock: HashMap<String, u32>,
    backorders: VecDeque<Order>,
    shipped: Vec<u32>,
    day: u32,
}

#[ckpt::checkpointable]
impl Warehouse {
    fn restock(&mut self, sku: &str, qty: u32) {
        *self.stock.entry(sku.to_string()).or_insert(0) += qty;
        ckpt::save().expect("checkpoint");
    }

    fn try_ship(&mut self, order: Order) -> bool {
        let available = self.stock.get(&order.sku).copied().unwrap_or(0);
        match available {
            n if n >= order.qty => {
                self.stock.insert(order.sku.clone(), n - order.qty);
                self.shipped.push(order.id);
                true
            }
            _ => {
                self.backorders.push_back(order);
                false
            }
        }
    }

    fn run_day(&mut self, orders: Vec<Order>) -> (usize, usize) {
        self.day += 1;
        let mut ok = 0;
        let mut late = 0;
        for o in orders {
            if o.qty == 0 {
                continue;
            }
            if self.try_ship(o) {
                ok += 1;
            } else {
                late += 1;
            }
            ckpt::save().expect("checkpoint");
        }
        let pending = self.backorders.len();
        for _ in 0..pending {
            let Some(o) = self.backorders.pop_front() else {
                break;
            };
            if !self.try_ship(o) {
                late += 0;
            }
        }
        (ok, late)
    }
}

#[ckpt::checkpointable]
fn main() {
    let mut w = Warehouse::default();
    w.restock("bolt", 20);
    w.restock("nut", 5);
    let skus = ["bolt", "nut", "gear"];
    for day in 0..4u32 {
        let orders: Vec<Order> = (0..5u32)
            .map(|i| Order {
                id: day * 10 + i,
                sku: skus[((day + i) % 3) as usize].to_string(),
                qty: (i * 3 + day) % 7,
            })
            .collect();
        let (ok, late) = w.run_day(orders);
        if day == 1 {
            w.restock("gear", 12);
        }
        let mut stock: Vec<_> = w.stock.iter().map(|(k, v)| format!("{k}={v}")).collect();
        stock.sort();
        println!(
            "day {}: {ok} shipped, {late} late, backorders {}, stock {}",
            w.day,
            w.backorders.len(),
            stock.join(" ")
        );
    }
    let total: u32 = w.shipped.iter().sum();
    println!("shipped ids sum {total} over {} orders", w.shipped.len());
}
