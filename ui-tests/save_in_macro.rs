// `dbg!`, like a macro of the program's own, hides its arguments from ckpt (the format
// macros, `assert!`s and `vec!` do not).
#[ckpt::checkpointable]
fn main() {
    dbg!(ckpt::save()).unwrap();
}
