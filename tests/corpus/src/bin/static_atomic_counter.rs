//! A `static EVENTS: AtomicU64` incremented by checkpointable code and a plain helper;
//! its value is printed after saves.
use std::sync::atomic::{AtomicU64, Ordering};

static EVENTS: AtomicU64 = AtomicU64::new(0);

fn record(weight: u64) {
    EVENTS.fetch_add(weight, Ordering::Relaxed);
}

#[ckpt::checkpointable]
fn process(batch: &[u32]) -> u32 {
    let mut hits = 0;
    for &x in batch {
        record(1);
        if x % 7 == 0 {
            hits += 1;
            EVENTS.fetch_add(10, Ordering::Relaxed);
            ckpt::save().expect("checkpoint");
            println!(
                "  {x} divisible by 7, events so far {}",
                EVENTS.load(Ordering::Relaxed)
            );
        }
    }
    hits
}

#[ckpt::checkpointable]
fn main() {
    let data: Vec<u32> = (1..=80).map(|i| i * 3 + 1).collect();
    let mut hits = 0;
    for (n, chunk) in data.chunks(20).enumerate() {
        let batch = chunk.to_vec();
        hits += process(&batch);
        println!(
            "batch {n}: {hits} hits, {} events",
            EVENTS.load(Ordering::Relaxed)
        );
    }
    println!("total events {}", EVENTS.load(Ordering::SeqCst));
}
