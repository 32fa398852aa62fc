//! Reads what ckpt does not see: the process id, and an environment variable, both
//! through plain functions outside checkpointable code. A replay feeds the program the
//! recorded inputs, but the process id line comes out different (the digest of the
//! recorded output says so), and `BYPASS_EXTRA_CLOCK` set at the replay only makes the
//! program ask for a clock reading where the log holds random bytes; `BYPASS_OFFSET` at
//! the replay only changes a variable, which the state digest at the next save point
//! catches before any output shows it. Not in the
//! kill/restore corpus (its output differs between any two runs); used by the replay
//! tests.

/// Outside `#[checkpointable]`: std's own calls, not routed to a component.
fn process_id() -> u32 {
    std::process::id()
}

fn extra_clock() -> bool {
    std::env::var_os("BYPASS_EXTRA_CLOCK").is_some()
}

/// A starting value from `BYPASS_OFFSET`, also read where ckpt does not see it.
fn offset() -> u64 {
    std::env::var("BYPASS_OFFSET")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[ckpt::checkpointable]
fn main() {
    let start = std::time::Instant::now();
    if extra_clock() {
        let _again = std::time::Instant::now();
    }
    let mut rng = ckpt::rand::Rng::from_os();
    let mut total = offset();
    for i in 0..3 {
        total += rng.next_u64() % 100;
        ckpt::save().expect("checkpoint");
        println!("step {i}");
    }
    println!("total {total}");
    println!("process {}", process_id());
    println!("took {:?}", start.elapsed());
}
