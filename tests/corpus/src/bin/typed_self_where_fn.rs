//! A method with a typed receiver `self: &mut Self` that saves, and a generic function
//! whose closure parameter is bounded in a `where` clause (`where F: Fn(u32) -> u32`).
#[derive(ckpt::State)]
struct Meter {
    ticks: u32,
}

#[ckpt::checkpointable]
impl Meter {
    fn tick(self: &mut Self, by: u32) -> u32 {
        self.ticks += by;
        ckpt::save().expect("checkpoint");
        self.ticks
    }
}

#[ckpt::checkpointable]
fn apply_all<F>(xs: &mut Vec<u32>, f: F) -> u32
where
    F: Fn(u32) -> u32,
{
    let mut calls = 0;
    for i in 0..xs.len() {
        xs[i] = f(xs[i]);
        calls += 1;
        ckpt::save().expect("checkpoint");
        println!("  mapped {} of {}", i + 1, xs.len());
    }
    calls
}

#[ckpt::checkpointable]
fn main() {
    let mut m = Meter { ticks: 0 };
    for by in [1, 2, 3] {
        let t = m.tick(by);
        println!("ticks {t}");
    }
    let offset = 100;
    let mut xs = vec![1, 2, 3];
    let calls = apply_all(&mut xs, |x| x + offset);
    println!("{:?} after {calls} calls", xs);
}
