//! Closures stored in locals (`let scale = |x| x * factor;`, a `move` closure, and a Vec
//! of boxed closures) called inside loops that save; no save inside the closures.
#[ckpt::checkpointable]
fn main() {
    let factor = 3;
    let scale = |x: i64| x * factor;
    let offset = 7;
    let shift = move |x: i64| x + offset;
    let is_interesting = |x: &i64| x % 5 == 0;
    let mut results = Vec::new();
    for i in 0..20 {
        let y = shift(scale(i));
        if is_interesting(&y) {
            results.push(y);
        }
        if i % 2 == 0 {
            ckpt::save().expect("checkpoint");
            println!("i={i} y={y} interesting so far {:?}", results);
        }
    }
    let ops: Vec<(&str, Box<dyn Fn(i64) -> i64>)> = vec![
        ("double", Box::new(|x| x * 2)),
        ("square", Box::new(|x| x * x)),
        ("negate", Box::new(|x| -x)),
        ("add factor", Box::new(move |x| x + factor)),
    ];
    let mut acc = 1;
    for (name, op) in ops.iter() {
        acc = op(acc + 1);
        ckpt::save().expect("checkpoint");
        println!("{name} -> {acc}");
    }
    println!("final {acc}, {} interesting values", results.len());
}
