//! Prints something ckpt does not see: the process id, read by a plain function outside
//! checkpointable code. A replay feeds the program the recorded inputs, but this line
//! comes out different, and the digest of the recorded output says so. Not in the
//! kill/restore corpus (its output differs between any two runs); used by the replay
//! tests.

/// Outside `#[checkpointable]`: std's own call, not routed to a component.
fn process_id() -> u32 {
    std::process::id()
}

#[ckpt::checkpointable]
fn main() {
    let start = std::time::Instant::now();
    for i in 0..3 {
        println!("step {i}");
    }
    println!("process {}", process_id());
    println!("took {:?}", start.elapsed());
}
