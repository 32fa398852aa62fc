//! A checkpointable `fn normalize_row(row: &mut Vec<f64>)` called for each row of a
//! `Vec<Vec<f64>>` through `for row in grid.iter_mut()` and through indices.
#[ckpt::checkpointable]
fn normalize_row(row: &mut Vec<f64>) -> f64 {
    let total: f64 = row.iter().sum();
    for x in row.iter_mut() {
        *x /= total;
    }
    ckpt::save().expect("checkpoint");
    total
}

#[ckpt::checkpointable]
fn main() {
    let mut grid: Vec<Vec<f64>> = (1..=4)
        .map(|r| (1..=3).map(|c| (r * c) as f64).collect())
        .collect();
    for row in grid.iter_mut() {
        let t = normalize_row(row);
        println!("row total was {t}");
    }
    for i in 0..grid.len() {
        grid[i].push(i as f64);
        let t = normalize_row(&mut grid[i]);
        println!("row {i} total now {t:.3}");
    }
    println!("{:?}", grid[3]);
}
