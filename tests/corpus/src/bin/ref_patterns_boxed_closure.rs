//! `ref` bindings in a `match` and a `let`, a boxed closure in a local, and a loop over
//! `v.into_iter().skip(1)`, each across saves.
#[ckpt::checkpointable]
fn main() {
    let names: Vec<Option<String>> = vec![Some("ada".into()), None, Some("grace".into())];
    let mut total = 0;
    for entry in names.iter() {
        match entry {
            Some(ref s) => {
                ckpt::save().expect("checkpoint");
                total += s.len();
                println!("name {s}, total {total}");
            }
            None => println!("no name"),
        }
    }
    let k = 5u64;
    let bump: Box<dyn Fn(u64) -> u64> = Box::new(move |x| x + k);
    let words = vec![
        "skip me".to_string(),
        "one".into(),
        "two".into(),
        "three".into(),
    ];
    let mut acc = 1;
    for w in words.into_iter().skip(1) {
        acc = bump(acc * w.len() as u64);
        ckpt::save().expect("checkpoint");
        println!("{w}: {acc}");
    }
    let pair = (String::from("left"), 7);
    let (ref l, n) = pair;
    ckpt::save().expect("checkpoint");
    println!("{l} {n} {}", pair.0);
}
