//! Prints std `HashMap`s in their iteration order, which depends on the maps' random
//! keys: two live runs print the words in different orders. A replay prints them in the
//! recorded order, also for a map made after a save (which a replay does not write).
//! Not in the kill/restore corpus (a restored map has new keys); used by the replay tests.

use std::collections::HashMap;

#[ckpt::checkpointable]
fn main() {
    let text = "the quick brown fox jumps over the lazy dog and then the fox sleeps";
    let mut counts: HashMap<String, usize> = HashMap::new();
    for w in text.split(' ') {
        *counts.entry(w.to_string()).or_insert(0) += 1;
    }
    ckpt::save().expect("checkpoint");
    let mut by_length: HashMap<usize, Vec<String>> = HashMap::new();
    for w in counts.keys() {
        by_length.entry(w.len()).or_default().push(w.clone());
    }
    for (word, n) in &counts {
        println!("{word} {n}");
    }
    for (len, words) in &by_length {
        println!("{len}: {}", words.join(" "));
    }
}
