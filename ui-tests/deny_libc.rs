// Deny mode: a raw C library call in checkpointable code is an error, not a warning.
#[ckpt::checkpointable(deny)]
fn main() {
    let pid = unsafe { libc::getpid() };
    ckpt::save().unwrap();
    println!("{pid}");
}
