//! `for p in prices.iter_mut()` and `for row in &mut grid`: elements mutated in place
//! with a save in the loop body and the element written after the save.
#[ckpt::checkpointable]
fn main() {
    let mut prices: Vec<f64> = (1..=20).map(|i| i as f64 * 2.5).collect();
    let mut counter = 0;
    for p in prices.iter_mut() {
        counter += 1;
        if counter % 4 == 0 {
            ckpt::save().expect("checkpoint");
        }
        *p *= 1.1;
        println!("adjusted price #{counter}: {:.3}", p);
    }
    let total: f64 = prices.iter().sum();
    println!("new total: {total:.2}");

    let mut grid = vec![vec![0u32; 5]; 6];
    let mut r = 0;
    for row in &mut grid {
        r += 1;
        ckpt::save().expect("checkpoint");
        for (c, cell) in row.iter_mut().enumerate() {
            *cell = r * (c as u32 + 1);
        }
        println!("row {r}: {:?}", row);
    }
    for row in grid.iter_mut() {
        row.reverse();
    }
    println!("corner values: {} {}", grid[0][0], grid[5][4]);
}
