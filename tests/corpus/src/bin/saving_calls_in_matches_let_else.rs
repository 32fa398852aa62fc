//! Saving calls in the initializer of `let ... else`, inside `matches!`, `assert_eq!`,
//! `assert!` and `write!`, and a match guard reading a value computed by one.
use std::fmt::Write;

#[ckpt::checkpointable]
fn next_value(state: &mut u32) -> Option<u32> {
    ckpt::save().expect("checkpoint");
    *state += 3;
    if *state > 40 {
        None
    } else {
        Some(*state)
    }
}

#[ckpt::checkpointable]
fn is_big(x: u32) -> bool {
    ckpt::save().expect("checkpoint");
    x > 20
}

#[ckpt::checkpointable]
fn main() {
    let mut state = 1;
    let mut report = String::new();
    loop {
        let Some(v) = next_value(&mut state) else {
            println!("done at {state}");
            break;
        };
        let big = matches!(is_big(v), true) && v % 2 == 0;
        assert_eq!(v % 3, 1, "values step by 3 from 1");
        write!(report, "{v}{} ", if big { "!" } else { "" }).unwrap();
        let b2 = is_big(v);
        match v {
            x if b2 => println!("{x} is big, report: {report}"),
            x => println!("{x} is small"),
        }
        assert!(is_big(v) || v < 30, "sizes");
    }
    println!("{report}");
}
