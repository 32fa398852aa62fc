//! A `BTreeMap<u32, f64>` walked with `keys()`, `values()` and `range(10..=16)`, with a
//! save inside each loop.
use std::collections::BTreeMap;

#[ckpt::checkpointable]
fn main() {
    let mut temps: BTreeMap<u32, f64> = BTreeMap::new();
    for day in 1..=30 {
        temps.insert(day, 10.0 + ((day * 7) % 13) as f64 * 0.8);
    }
    for day in temps.keys() {
        if day % 5 == 0 {
            ckpt::save().expect("checkpoint");
            println!("day {day} recorded");
        }
    }
    let mut sum = 0.0;
    for t in temps.values() {
        sum += t;
        if *t > 18.5 {
            ckpt::save().expect("checkpoint");
            println!("warm reading {t:.1}, running sum {sum:.1}");
        }
    }
    for (day, t) in temps.range(10..=16) {
        if day % 2 == 0 {
            ckpt::save().expect("checkpoint");
        }
        println!("week two, day {day}: {t:.1}");
    }
    let (first, t0) = temps.first_key_value().unwrap();
    let (last, t1) = temps.last_key_value().unwrap();
    println!(
        "mean {:.2}; day {first}: {t0:.1}, day {last}: {t1:.1}",
        sum / temps.len() as f64
    );
}
