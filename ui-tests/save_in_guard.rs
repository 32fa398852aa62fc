#[ckpt::checkpointable]
fn main() {
    let v = Some(3u32);
    match v {
        Some(x) if ckpt::save().is_ok() => println!("{x}"),
        _ => {}
    }
}
