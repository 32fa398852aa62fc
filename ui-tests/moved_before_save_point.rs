#[derive(ckpt::State)]
struct Config {
    rounds: u32,
}

fn consume(c: Config) -> u32 {
    c.rounds
}

#[ckpt::checkpointable]
fn main() {
    let cfg = Config { rounds: 3 };
    let mut total = 0;
    {
        total += consume(cfg);
        ckpt::save().unwrap();
    }
    println!("{total}");
}
