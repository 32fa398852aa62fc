// Deny mode on an impl block: every method is checked; `thread::spawn` after
// `use std::thread` is recognised too.
use std::thread;

struct Worker;

#[ckpt::checkpointable(deny)]
impl Worker {
    fn run(&self) {
        let handle = thread::spawn(|| 1 + 1);
        ckpt::save().unwrap();
        println!("{}", handle.join().unwrap());
    }
}

#[ckpt::checkpointable]
fn main() {
    Worker.run();
}
