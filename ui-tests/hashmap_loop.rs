use std::collections::HashMap;

#[ckpt::checkpointable]
fn main() {
    let mut m: HashMap<String, u32> = HashMap::new();
    m.insert("a".into(), 1);
    let mut total = 0;
    for (_k, v) in &m {
        total += v;
        ckpt::save().unwrap();
    }
    println!("{total}");
}
