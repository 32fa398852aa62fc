//! Input and output for checkpointed programs: the `io` component.
//!
//! Inside `#[checkpointable]` code, `std::io` means this module: a superset of `std::io`
//! (everything std has is re-exported; the traits are std's own) with its own
//! [`BufReader`], [`BufWriter`], [`Lines`], [`Split`], [`Bytes`] and [`stdin`], which can
//! be live across a save point with their buffered bytes.
//!
//! **Standard output and error.** Every save flushes them and, when they are regular
//! files, records their identity (device, inode) and length. A restore whose standard
//! output (or error) is the *same* file cuts it back to that length, so the file ends up
//! equal to the output of an uninterrupted run: run the restore with `>>` (append) to the
//! same file. When they are pipes or terminals nothing can be taken back: output printed
//! after the last save and before the kill is printed again by a plain restore. A run
//! recorded with `--ckpt-record` avoids that: its standard output leaves through an output
//! commit that logs how much of it left, and a recovery (`--restore IMG --ckpt-record
//! LOG`) does not print that part again (see the `commit` part of this module and
//! [`crate::replay`]).
//!
//! **Standard input.** Bytes read from the OS but not yet consumed are saved. When standard
//! input is a regular file, its offset is saved too, and a restore given the *same* file
//! (`prog --restore img < same-file`) continues reading where the saved run stopped; from a
//! pipe or terminal, a plain restore reads whatever comes next; a recovery through the
//! input log gets the bytes the killed run had read from the log first.
//!
//! ```no_run
//! use std::io::BufRead;
//!
//! #[ckpt::checkpointable]
//! fn main() {
//!     let mut n = 0u64;
//!     for line in ckpt::io::stdin().lines() {
//!         n += line.unwrap().len() as u64;
//!         ckpt::save().expect("checkpoint");
//!     }
//!     println!("{n} bytes");
//! }
//! ```

mod buffered;
#[cfg_attr(not(feature = "agent"), allow(dead_code))]
pub(crate) mod commit;
#[cfg_attr(not(feature = "agent"), allow(dead_code))]
pub(crate) mod stdio;

#[cfg(test)]
mod tests;

pub use std::io::*;

pub use buffered::{BufReader, BufWriter, Bytes, IntoInnerError, Lines, Split};
pub use stdio::{stdin, Stdin, StdinLock};
