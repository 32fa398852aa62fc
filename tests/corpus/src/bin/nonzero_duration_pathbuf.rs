//! `NonZeroU32`, `Duration` and `PathBuf` values kept across saves, and a
//! `std::cmp::Ordering` from `Duration::cmp` matched with saves in the arms.
use std::cmp::Ordering;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

#[ckpt::checkpointable]
fn main() {
    let timings_ms = [
        120u64, 45, 300, 100, 80, 260, 100, 15, 510, 99, 101, 150, 30, 220,
    ];
    let budget = Duration::from_millis(100);
    let every = NonZeroU32::new(3).unwrap();
    let mut total = Duration::ZERO;
    let mut path = PathBuf::from("reports");
    let mut slow = 0;
    for (i, ms) in timings_ms.iter().enumerate() {
        let d = Duration::from_millis(*ms);
        total += d;
        if (i as u32 + 1) % every.get() == 0 {
            path.push(format!("group{}", (i as u32 + 1) / every));
        }
        match d.cmp(&budget) {
            Ordering::Greater => {
                slow += 1;
                ckpt::save().expect("checkpoint");
                println!("step {i}: {:?} over budget by {:?}", d, d - budget);
            }
            Ordering::Equal => {
                ckpt::save().expect("checkpoint");
                println!("step {i}: exactly on budget");
            }
            Ordering::Less => println!("step {i}: {:?} ok", d),
        }
    }
    path.set_extension("txt");
    println!(
        "total {:?} ({} ms), {slow} slow steps",
        total,
        total.as_millis()
    );
    println!("report path: {}", path.display());
    println!(
        "every {} steps a new group; {} components",
        every,
        path.components().count()
    );
}
