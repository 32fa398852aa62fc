// `ckpt::save` takes no argument (`ckpt::save_to(path)` names the file).
#[ckpt::checkpointable]
fn main() {
    ckpt::save("state.ckpt").unwrap();
}
