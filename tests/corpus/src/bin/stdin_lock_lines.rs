//! Reads standard input through a lock taken on a local handle, the way the std docs
//! show it, with a save point inside the loop.
use std::io::BufRead;

#[ckpt::checkpointable]
fn main() {
    let stdin = std::io::stdin();
    let mut count = 0usize;
    let mut longest = String::new();
    for line in stdin.lock().lines() {
        let line = line.expect("stdin");
        count += 1;
        if line.len() > longest.len() {
            longest = line.clone();
        }
        ckpt::save().expect("checkpoint");
    }
    println!("{count} lines, longest {longest:?}");
}
