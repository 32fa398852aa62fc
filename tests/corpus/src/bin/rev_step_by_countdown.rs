//! `(1..=10).rev()`, `log.iter().rev().step_by(2)` and `(1900..2000).step_by(12)` loops
//! with saves inside.
#[ckpt::checkpointable]
fn main() {
    let mut log = Vec::new();
    for i in (1..=10).rev() {
        ckpt::save().expect("checkpoint");
        log.push(i * i);
        println!("T-minus {i}");
    }
    println!("liftoff! squares: {:?}", log);
    for sq in log.iter().rev().step_by(2) {
        ckpt::save().expect("checkpoint");
        println!("every other square from the small end: {sq}");
    }
    let mut leap = 0;
    for year in (1900..2000).step_by(12) {
        let is_leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        if is_leap {
            leap += 1;
        }
        if year % 3 == 0 {
            ckpt::save().expect("checkpoint");
        }
        println!("{year}: leap={is_leap}");
    }
    println!("{leap} leap years in the sample");
}
