//! `for o in &orders` in main, and `fn order_total(orders: &Vec<Order>)` iterating
//! `for o in orders` with a save inside.
#[derive(Debug, Clone, ckpt::State)]
struct Order {
    id: u32,
    qty: u32,
    price_cents: u64,
}

#[ckpt::checkpointable]
fn order_total(orders: &Vec<Order>) -> u64 {
    let mut sum = 0;
    for o in orders {
        sum += o.qty as u64 * o.price_cents;
        if o.id % 4 == 0 {
            ckpt::save().expect("checkpoint");
            println!("  order {} counted, subtotal {}", o.id, sum);
        }
    }
    sum
}

#[ckpt::checkpointable]
fn main() {
    let mut orders = Vec::new();
    for id in 1..=24u32 {
        orders.push(Order {
            id,
            qty: id % 5 + 1,
            price_cents: 199 + (id as u64 * 73) % 1000,
        });
    }
    let mut big = 0;
    for o in &orders {
        if o.qty >= 4 {
            big += 1;
        }
        if o.id % 6 == 0 {
            ckpt::save().expect("checkpoint");
            println!("scanned up to order {}: {} big orders", o.id, big);
        }
    }
    let total = order_total(&orders);
    println!(
        "{} orders, {} big, total {}.{:02}",
        orders.len(),
        big,
        total / 100,
        total % 100
    );
}
