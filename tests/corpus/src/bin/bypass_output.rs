//! Reads what ckpt does not see: the process id, and an environment variable, both
//! through plain functions outside checkpointable code. A replay feeds the program the
//! recorded inputs, but the process id line comes out different (the digest of the
//! recorded output says so), and `BYPASS_EXTRA_CLOCK` set at the replay only makes the
//! program ask for a clock reading where the log holds random bytes. Not in the
//! kill/restore corpus (its output differs between any two runs); used by the replay
//! tests.

/// Outside `#[checkpointable]`: std's own calls, not routed to a component.
fn process_id() -> u32 {
    std::process::id()
}

fn extra_clock() -> bool {
    std::env::var_os("BYPASS_EXTRA_CLOCK").is_some()
}

#[ckpt::checkpointable]
fn main() {
    let start = std::time::Instant::now();
    if extra_clock() {
        let _again = std::time::Instant::now();
    }
    let mut rng = ckpt::rand::Rng::from_os();
    for i in 0..3 {
        println!("step {i} {}", rng.next_u64() % 100);
    }
    println!("process {}", process_id());
    println!("took {:?}", start.elapsed());
}
