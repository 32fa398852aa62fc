#[ckpt::checkpointable]
fn main() {
    let f = || ckpt::save();
    f().unwrap();
}
