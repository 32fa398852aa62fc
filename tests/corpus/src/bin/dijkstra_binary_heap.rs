//! Dijkstra on a weighted grid with a `BinaryHeap<Reverse<(u32, usize)>>`, saving every
//! few pops; distances in a `Vec<Option<u32>>`.
use std::cmp::Reverse;
use std::collections::BinaryHeap;

fn xorshift(state: &mut u32) -> u32 {
    *state ^= *state << 13;
    *state ^= *state >> 17;
    *state ^= *state << 5;
    *state
}

#[ckpt::checkpointable]
fn main() {
    const W: usize = 8;
    const H: usize = 8;
    let mut seed = 2463534242u32;
    let cost: Vec<u32> = (0..W * H).map(|_| xorshift(&mut seed) % 9 + 1).collect();
    for row in cost.chunks(W) {
        println!("{}", row.iter().map(|c| c.to_string()).collect::<String>());
    }
    let mut dist: Vec<Option<u32>> = vec![None; W * H];
    let mut heap = BinaryHeap::new();
    dist[0] = Some(0);
    heap.push(Reverse((0u32, 0usize)));
    let mut pops = 0;
    while let Some(Reverse((d, u))) = heap.pop() {
        if let Some(best) = dist[u] {
            if d > best {
                continue;
            }
        }
        pops += 1;
        if pops % 6 == 0 {
            ckpt::save().expect("checkpoint");
            println!(
                "pop {pops}: node ({}, {}) at distance {d}, heap size {}",
                u / W,
                u % W,
                heap.len()
            );
        }
        let (r, c) = (u / W, u % W);
        let mut neighbours = Vec::new();
        if r > 0 {
            neighbours.push(u - W);
        }
        if r + 1 < H {
            neighbours.push(u + W);
        }
        if c > 0 {
            neighbours.push(u - 1);
        }
        if c + 1 < W {
            neighbours.push(u + 1);
        }
        for v in neighbours {
            let nd = d + cost[v];
            if dist[v].map_or(true, |old| nd < old) {
                dist[v] = Some(nd);
                heap.push(Reverse((nd, v)));
            }
        }
    }
    println!(
        "lowest total risk to the corner: {}",
        dist[W * H - 1].unwrap()
    );
}
