// A static that changes, of a type ckpt cannot save (the analysis in
// `ui-tests/setup/globals.analysis` lists it, as ckpt_build::instrument() would, for the
// crate trybuild names `trybuild000`).
use std::sync::Mutex;

struct Tally {
    n: u32,
}

static TALLY: Mutex<Tally> = Mutex::new(Tally { n: 0 });

#[ckpt::checkpointable]
fn main() {
    TALLY.lock().unwrap().n += 1;
    ckpt::save().unwrap();
}
