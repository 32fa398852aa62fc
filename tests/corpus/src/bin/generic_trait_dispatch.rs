//! A checkpointable generic `fn run<T: Counter>(c: &mut T, steps: u32)` calling a trait
//! method that saves, for two implementations.
trait Counter {
    fn tick(&mut self) -> u64;
    fn name(&self) -> String;
}

#[derive(ckpt::State)]
struct Linear {
    n: u64,
}

#[derive(ckpt::State)]
struct Doubling {
    n: u64,
}

#[ckpt::checkpointable]
impl Counter for Linear {
    fn tick(&mut self) -> u64 {
        self.n += 3;
        ckpt::save().expect("checkpoint");
        self.n
    }
    fn name(&self) -> String {
        "linear".to_string()
    }
}

#[ckpt::checkpointable]
impl Counter for Doubling {
    fn tick(&mut self) -> u64 {
        self.n = self.n * 2 + 1;
        ckpt::save().expect("checkpoint");
        self.n
    }
    fn name(&self) -> String {
        format!("doubling from {}", 1)
    }
}

#[ckpt::checkpointable]
fn run<T: Counter>(c: &mut T, steps: u32) -> u64 {
    let mut last = 0;
    for s in 0..steps {
        last = c.tick();
        println!("  {} step {s}: {last}", c.name());
    }
    last
}

#[ckpt::checkpointable]
fn main() {
    let mut a = Linear { n: 0 };
    let mut b = Doubling { n: 1 };
    let x = run(&mut a, 4);
    let y = run(&mut b, 5);
    println!("final {x} and {y}");
}
