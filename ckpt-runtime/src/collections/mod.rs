//! Hash maps and sets whose iteration order survives a checkpoint and restore.
//!
//! [`HashMap`] and [`HashSet`] have std's API but iterate in insertion order (backed by
//! the `indexmap` crate), so the order is a pure function of the program's own
//! operations: a restored collection iterates exactly like the original, and a loop over
//! one may hold a save point (their iterators are [`StableOrder`](crate::state::StableOrder)).
//! Rebuilding a std map with the same hasher keys would not be enough: its order also
//! depends on the insertion history and the table's capacity.
//!
//! `remove` keeps the remaining order (O(n)); `swap_remove` is the O(1) alternative.
//! Iteration order never depends on the hasher, which is not saved.

pub mod map;
pub mod set;

// A superset of `std::collections`: inside checkpointable code `std::collections` means
// this module, so everything else std has is here too.
pub use std::collections::*;

pub use map::{Entry, HashMap, OccupiedEntry, VacantEntry};
pub use set::HashSet;

/// `std::collections::hash_map` inside checkpointable code: ckpt's map and its types.
pub mod hash_map {
    pub use super::map::*;
    pub use std::collections::hash_map::{DefaultHasher, RandomState};
}

/// `std::collections::hash_set` inside checkpointable code: ckpt's set and its types.
pub mod hash_set {
    pub use super::set::*;
}

#[cfg(test)]
mod tests;
