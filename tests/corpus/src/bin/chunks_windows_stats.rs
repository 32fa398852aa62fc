//! `data.chunks(6)` and `data.windows(3)` over a Vec of pseudo-random numbers, with saves
//! inside both loops and the chunk/window slices used after the save.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[ckpt::checkpointable]
fn main() {
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let data: Vec<u32> = (0..48)
        .map(|_| (xorshift(&mut seed) % 100) as u32)
        .collect();
    for (i, chunk) in data.chunks(6).enumerate() {
        let sum: u32 = chunk.iter().sum();
        ckpt::save().expect("checkpoint");
        println!(
            "chunk {i}: {:?} sum={sum} max={}",
            chunk,
            chunk.iter().max().unwrap()
        );
    }
    let mut increasing = 0;
    for (i, w) in data.windows(3).enumerate() {
        if w[0] < w[1] && w[1] < w[2] {
            increasing += 1;
        }
        if i % 8 == 0 {
            ckpt::save().expect("checkpoint");
            println!("window {i}: {:?}, increasing runs so far: {increasing}", w);
        }
    }
    println!(
        "{} windows, {} strictly increasing",
        data.len() - 2,
        increasing
    );
}
