//! `match v.first()` / `match v.iter().max()` with a save inside the arm that uses the
//! borrowed element afterwards, and `if let [a, b, ..] = &v[..]` slice patterns.
#[ckpt::checkpointable]
fn main() {
    let words = vec![
        "delta".to_string(),
        "alpha".into(),
        "charlie".into(),
        "bravo".into(),
    ];
    match words.first() {
        Some(first) => {
            ckpt::save().expect("checkpoint");
            println!("first word {first} ({} letters)", first.len());
        }
        None => println!("no words"),
    }
    match words.iter().max() {
        Some(top) => {
            ckpt::save().expect("checkpoint");
            println!("last in order: {top}");
        }
        None => {}
    }
    if let [a, b, ..] = &words[..] {
        ckpt::save().expect("checkpoint");
        println!("first two: {a} {b}");
    }
    let lens: Vec<usize> = words.iter().map(String::len).collect();
    println!("lengths {lens:?}");
}
