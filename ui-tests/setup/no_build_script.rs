// A package without `build.rs` calling `ckpt_build::instrument()`.
#[ckpt::checkpointable]
fn main() {
    ckpt::save().unwrap();
}
