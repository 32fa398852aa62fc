//! Backtracking N-Queens with a recursive checkpointable `place(&mut Vec<usize>, ..)`
//! that saves whenever a full board is found.
fn safe(cols: &[usize], col: usize) -> bool {
    let row = cols.len();
    cols.iter()
        .enumerate()
        .all(|(r, &c)| c != col && row - r != c.abs_diff(col))
}

#[ckpt::checkpointable]
fn place(cols: &mut Vec<usize>, n: usize, solutions: &mut Vec<Vec<usize>>) {
    if cols.len() == n {
        solutions.push(cols.clone());
        ckpt::save().expect("checkpoint");
        println!("solution {}: {:?}", solutions.len(), cols);
        return;
    }
    for col in 0..n {
        if safe(cols, col) {
            cols.push(col);
            place(cols, n, solutions);
            cols.pop();
        }
    }
}

#[ckpt::checkpointable]
fn main() {
    let n = 6;
    let mut cols = Vec::new();
    let mut solutions = Vec::new();
    place(&mut cols, n, &mut solutions);
    println!("{} solutions for {n} queens", solutions.len());
    let n = 5;
    let mut cols = Vec::new();
    let mut more = Vec::new();
    place(&mut cols, n, &mut more);
    println!("{} solutions for {n} queens", more.len());
}
