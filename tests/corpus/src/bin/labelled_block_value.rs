//! A labelled block producing a value with `break 'found x`, a save inside it, and
//! `Option` combinators (`map_or`, `and_then`, `unwrap_or_else`) around saves.
fn parse_pair(s: &str) -> Option<(i32, i32)> {
    let (a, b) = s.split_once(':')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

#[ckpt::checkpointable]
fn main() {
    let inputs = ["1:2", "x:3", "4:5", "6:y", "7:8"];
    let mut sums = Vec::new();
    for s in inputs {
        let value = 'found: {
            let Some((a, b)) = parse_pair(s) else {
                break 'found -1;
            };
            ckpt::save().expect("checkpoint");
            if a > 5 {
                break 'found a * b;
            }
            a + b
        };
        sums.push(value);
        println!("{s} -> {value}");
    }
    let best = sums.iter().copied().filter(|v| *v > 0).max();
    ckpt::save().expect("checkpoint");
    let shown = best.map_or("none".to_string(), |b| format!("best {b}"));
    let doubled = best.and_then(|b| b.checked_mul(2)).unwrap_or_else(|| 0);
    println!("{shown}, doubled {doubled}");
}
