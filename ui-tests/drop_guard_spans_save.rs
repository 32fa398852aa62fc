use std::sync::Mutex;

static LOCK: Mutex<()> = Mutex::new(());

#[ckpt::checkpointable]
fn main() {
    let _guard = LOCK.lock().unwrap();
    ckpt::save().unwrap();
    println!("done");
}
