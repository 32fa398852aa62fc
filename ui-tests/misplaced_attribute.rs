#[ckpt::checkpointable]
struct NotAFunction {
    x: u32,
}

struct S;

#[ckpt::checkpointable]
impl Clone for S {
    fn clone(&self) -> Self {
        S
    }
}

fn main() {}
