//! A checkpointable `fn best<'a>(items: &'a [Item]) -> Option<&'a Item>` that saves while
//! scanning; the borrowed result is kept across a later save and printed.
#[derive(Debug, ckpt::State)]
struct Item {
    name: String,
    score: u32,
}

#[ckpt::checkpointable]
fn best<'a>(items: &'a [Item]) -> Option<&'a Item> {
    let mut top: Option<&Item> = None;
    for it in items {
        if top.map_or(true, |t| it.score > t.score) {
            top = Some(it);
        }
        ckpt::save().expect("checkpoint");
    }
    top
}

#[ckpt::checkpointable]
fn main() {
    let items = vec![
        Item {
            name: "bolt".into(),
            score: 4,
        },
        Item {
            name: "gear".into(),
            score: 9,
        },
        Item {
            name: "nut".into(),
            score: 7,
        },
    ];
    let winner = best(&items);
    ckpt::save().expect("checkpoint");
    match winner {
        Some(w) => println!("best {} with {}", w.name, w.score),
        None => println!("empty"),
    }
    println!("{} items", items.len());
}
