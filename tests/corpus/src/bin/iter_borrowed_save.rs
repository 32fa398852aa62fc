//! `for x in v.iter()` over a Vec of readings, with a save inside the loop body and the
//! loop variable used after the save.
#[ckpt::checkpointable]
fn main() {
    let readings: Vec<i64> = (0..60).map(|i| (i * 37 % 101) - 50).collect();
    let mut total = 0i64;
    let mut max_seen = i64::MIN;
    for x in readings.iter() {
        if total.abs() % 5 == 0 || *x > 40 {
            ckpt::save().expect("checkpoint");
            println!("checkpoint before adding {x} to {total}");
        }
        total += x;
        if *x > max_seen {
            max_seen = *x;
            println!("new max {x} (running total {total})");
        }
    }
    println!("total = {total}, max = {max_seen}");
}
