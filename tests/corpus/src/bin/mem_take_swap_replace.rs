//! `std::mem::take`, `swap` and `replace` on locals and fields between saves: double
//! buffering of two Vecs and draining a pending list.
use std::mem;

#[derive(Default, ckpt::State)]
struct Buffers {
    front: Vec<u32>,
    back: Vec<u32>,
    pending: Vec<String>,
}

#[ckpt::checkpointable]
fn main() {
    let mut b = Buffers::default();
    let mut generation = 0u32;
    for round in 0..5u32 {
        b.back.clear();
        for i in 0..4 {
            b.back.push(round * 10 + i);
        }
        mem::swap(&mut b.front, &mut b.back);
        b.pending.push(format!("round {round}"));
        ckpt::save().expect("checkpoint");
        let done = mem::take(&mut b.pending);
        let old = mem::replace(&mut generation, round + 1);
        println!(
            "front {:?}, handled {:?}, generation {old} -> {generation}",
            b.front, done
        );
    }
}
