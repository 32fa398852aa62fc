//! Says whether its standard output is a terminal, then prints a few numbered lines with
//! a save between them. Used by the replay tests: recorded on a terminal, the program
//! still writes to one (a pseudo-terminal the output commit reads). Not in the
//! kill/restore corpus.

use std::io::IsTerminal;

#[ckpt::checkpointable]
fn main() {
    println!("stdout is a terminal: {}", std::io::stdout().is_terminal());
    for i in 1..=5 {
        println!("line {i}");
        ckpt::save().expect("checkpoint");
    }
}
