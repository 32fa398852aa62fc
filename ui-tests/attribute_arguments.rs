#[ckpt::checkpointable(fast)]
fn main() {
    ckpt::save().unwrap();
}
