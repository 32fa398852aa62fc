#[ckpt::checkpointable]
fn main() {
    println!("{:?}", ckpt::save());
}
