//! A search through a 2-D grid with nested loops, `break 'outer` with a found position,
//! saves inside the inner loop, and a `loop { ... break value }`.
#[ckpt::checkpointable]
fn main() {
    let grid: Vec<Vec<u32>> = (0..6)
        .map(|r| (0..7).map(|c| (r * 7 + c) * 37 % 101).collect())
        .collect();
    let mut visited = 0;
    let mut found = None;
    'outer: for (r, row) in grid.iter().enumerate() {
        for (c, &v) in row.iter().enumerate() {
            visited += 1;
            if visited % 5 == 0 {
                ckpt::save().expect("checkpoint");
                println!("visited {visited}, at ({r},{c}) = {v}");
            }
            if v > 95 {
                found = Some((r, c, v));
                break 'outer;
            }
        }
    }
    println!("found {:?} after {visited}", found);
    let mut n = 1u64;
    let steps = loop {
        n = n * 3 + 1;
        ckpt::save().expect("checkpoint");
        if n > 1000 {
            break n;
        }
    };
    println!("loop ended with {steps}");
}
