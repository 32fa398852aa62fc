//! A generic checkpointable `fn apply_all<F: Fn(i64) -> i64>(xs: &mut [i64], f: F)` that
//! saves between elements, called with closures capturing locals.
#[ckpt::checkpointable]
fn apply_all<F: Fn(i64) -> i64>(xs: &mut [i64], f: F) {
    for i in 0..xs.len() {
        xs[i] = f(xs[i]);
        if i % 2 == 1 {
            ckpt::save().expect("checkpoint");
            println!("  applied to {} of {}", i + 1, xs.len());
        }
    }
}

#[ckpt::checkpointable]
fn main() {
    let mut data = vec![1, 2, 3, 4, 5, 6];
    let bias = 10;
    apply_all(&mut data, |x| x * 3);
    println!("tripled: {:?}", data);
    apply_all(&mut data, |x| x + bias);
    println!("biased: {:?}", data);
    let total: i64 = data.iter().sum();
    println!("total {total}");
}
