//! `move` closures kept across saves: one owning a `String`, one owning a `Vec`, and one
//! holding a copy of a number that the loop then changes on its own.
#[ckpt::checkpointable]
fn main() {
    let prefix = String::from("item");
    let weights = vec![2, 3, 5, 7];
    let mut rate = 3;
    let label = move |i: usize| format!("{prefix}-{i}");
    let score = move |i: usize| weights[i % weights.len()] * i;
    let scaled = move |x: usize| x * rate;
    let mut sum = 0;
    for i in 0..12 {
        sum += score(i);
        rate += 1;
        ckpt::save().expect("checkpoint");
        println!(
            "{} score {} sum {} scaled {} rate {}",
            label(i),
            score(i),
            sum,
            scaled(i),
            rate
        );
    }
}
