//! A `BTreeSet<u32>` of seen values and an FNV-1a style `Wrapping<u32>` hash, both
//! updated across saves; the set is range-queried after each save.
use std::collections::BTreeSet;
use std::num::Wrapping;

#[ckpt::checkpointable]
fn main() {
    let words = "the cat sat on the mat and the dog sat on the log while a bird sang";
    let mut seen: BTreeSet<u32> = BTreeSet::new();
    let mut hash = Wrapping(2166136261u32);
    let prime = Wrapping(16777619u32);
    let mut duplicates = 0;
    for (i, word) in words.split(' ').enumerate() {
        let mut h = Wrapping(2166136261u32);
        for b in word.bytes() {
            h ^= Wrapping(b as u32);
            h *= prime;
        }
        if !seen.insert(h.0 % 1000) {
            duplicates += 1;
        }
        hash ^= h;
        hash *= prime;
        if i % 2 == 0 {
            ckpt::save().expect("checkpoint");
            let low: Vec<&u32> = seen.range(..500).collect();
            println!(
                "{word:>5}: hash {:08x}, {} seen, {} below 500",
                hash.0,
                seen.len(),
                low.len()
            );
        }
    }
    println!("final hash {:08x}, {duplicates} duplicates", hash);
    println!("smallest {:?}, largest {:?}", seen.first(), seen.last());
}
