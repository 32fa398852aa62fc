#[ckpt::checkpointable]
async fn work() {
    ckpt::save().unwrap();
}

fn main() {}
