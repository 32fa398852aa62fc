#[ckpt::checkpointable]
fn main() {
    let x = 1u32;
    for x in 0..3u32 {
        ckpt::save().unwrap();
        println!("{x}");
    }
    println!("{x}");
}
