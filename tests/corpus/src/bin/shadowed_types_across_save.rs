//! A name shadowed with a new type (`&str` → `i32` → `Vec<i32>`) around saves, and
//! tuple destructuring of a function's result.
fn min_max(v: &[i32]) -> (i32, i32) {
    (*v.iter().min().unwrap(), *v.iter().max().unwrap())
}

#[ckpt::checkpointable]
fn main() {
    let value = "42";
    ckpt::save().expect("checkpoint");
    let value: i32 = value.parse().unwrap();
    ckpt::save().expect("checkpoint");
    let value: Vec<i32> = (1..=value % 10).map(|i| i * value).collect();
    ckpt::save().expect("checkpoint");
    let (lo, hi) = min_max(&value);
    ckpt::save().expect("checkpoint");
    println!("{} values from {lo} to {hi}", value.len());
    let (mut a, mut b) = (lo, hi);
    while a < b {
        a += 11;
        b -= 7;
        ckpt::save().expect("checkpoint");
    }
    println!("met at {a} / {b}");
}
