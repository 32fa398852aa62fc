// A `move` closure that owns a `String`, kept across a save point: what it took lives in
// a local the frame saves.
#[ckpt::checkpointable]
fn main() {
    let label = String::from("item");
    let show = move |x: i32| format!("{label}-{x}");
    ckpt::save().unwrap();
    println!("{}", show(1));
}
