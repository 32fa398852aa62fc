//! Naive matrix multiplication on `Vec<Vec<f64>>` with nested `for i in 0..n` loops,
//! saving after each output row; a checkpointable helper returns the matrix.
fn identity_plus(n: usize, k: f64) -> Vec<Vec<f64>> {
    (0..n)
        .map(|i| {
            (0..n)
                .map(|j| {
                    if i == j {
                        1.0 + k
                    } else {
                        k / (1 + i + j) as f64
                    }
                })
                .collect()
        })
        .collect()
}

#[ckpt::checkpointable]
fn multiply(a: &Vec<Vec<f64>>, b: &Vec<Vec<f64>>) -> Vec<Vec<f64>> {
    let n = a.len();
    let mut c = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..n {
            let mut sum = 0.0;
            for k in 0..n {
                sum += a[i][k] * b[k][j];
            }
            c[i][j] = sum;
        }
        if let Err(e) = ckpt::save() {
            eprintln!("warning: could not write a checkpoint: {e}");
        }
        println!(
            "row {i}: trace so far {:.6}",
            (0..=i).map(|d| c[d][d]).sum::<f64>()
        );
    }
    c
}

#[ckpt::checkpointable]
fn main() {
    let a = identity_plus(6, 0.5);
    let b = identity_plus(6, -0.25);
    let c = multiply(&a, &b);
    let d = multiply(&c, &a);
    let checksum: f64 = d.iter().flatten().sum();
    println!("checksum {checksum:.9}");
}
