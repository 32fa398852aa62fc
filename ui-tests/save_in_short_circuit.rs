#[ckpt::checkpointable]
fn main() {
    let ready = true;
    if ready && ckpt::save().is_ok() {
        println!("saved");
    }
}
