//! Closures across saves in less plain places: one made in each turn of a loop, borrowing
//! the loop variable and a vector it pushes to; a `move` closure over a shadowed String
//! next to a counting one; and a `move` closure that captures another closure.
#[ckpt::checkpointable]
fn main() {
    let base = 10;
    let rows = vec![1, 2, 3];
    for r in &rows {
        let mut acc = Vec::new();
        let mut add = |x: i32| acc.push(x + base + *r);
        for k in 0..2 {
            add(k);
            ckpt::save().expect("checkpoint");
        }
        println!("row {r}: {acc:?}");
    }
    let name = String::from("n");
    let name = name + "ame";
    let tag = move |i: u32| format!("{name}{i}");
    let mut count = 0;
    let mut tick = || {
        count += 1;
        count
    };
    for i in 0..3 {
        let t = tick();
        ckpt::save().expect("checkpoint");
        println!("{} {t}", tag(i));
    }
    println!("count {count}");
    let scale = 3;
    let f = |x: i32| x * scale;
    let g = move |x: i32| f(x) + 1;
    for i in 0..2 {
        ckpt::save().expect("checkpoint");
        println!("g({i}) = {}", g(i));
    }
}
