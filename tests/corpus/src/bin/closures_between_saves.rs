//! Closures bound to locals between save points, called after later saves: a scaling
//! closure, a `move` closure over a `Copy` value, and one that captures a local by
//! reference.
#[ckpt::checkpointable]
fn main() {
    let base = 7;
    ckpt::save().expect("checkpoint");
    let scale = |x: i32| x * base;
    ckpt::save().expect("checkpoint");
    let label = String::from("item");
    let width = 3;
    let show = move |x: i32| format!("{x:>width$}");
    let mut total = 0;
    for i in 1..=4 {
        total += scale(i);
        ckpt::save().expect("checkpoint");
        println!("{label} {} total {total}", show(i));
    }
    let limit = total / 2;
    let over = |x: &i32| *x > limit;
    ckpt::save().expect("checkpoint");
    let values = [10, 40, 80, 120];
    let big: Vec<_> = values.iter().filter(|x| over(x)).collect();
    println!("limit {limit}: {:?}", big);
}
