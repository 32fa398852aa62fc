#[ckpt::checkpointable]
fn main() {
    let v: Option<u32> = None;
    let Some(x) = v else {
        ckpt::save().unwrap();
        return;
    };
    println!("{x}");
}
