//! Worker threads spawned and joined before the saves (their results saved in a Vec), then
//! a channel filled by threads and drained into a sorted Vec the loop saves over.
use std::sync::mpsc;
use std::thread;

#[ckpt::checkpointable]
fn main() {
    let handles: Vec<_> = (0..4u64)
        .map(|i| thread::spawn(move || (1..=10 + i).product::<u64>() % 1000))
        .collect();
    let results: Vec<u64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    for (i, r) in results.iter().enumerate() {
        ckpt::save().expect("checkpoint");
        println!("worker {i}: {r}");
    }
    let (tx, rx) = mpsc::channel();
    for id in 0..3 {
        let tx = tx.clone();
        thread::spawn(move || {
            for k in 0..3 {
                tx.send(id * 10 + k).unwrap();
            }
        });
    }
    drop(tx);
    let mut got: Vec<i32> = rx.iter().collect();
    got.sort();
    for g in got {
        ckpt::save().expect("checkpoint");
        println!("got {g}");
    }
}
