//! A custom `impl Iterator for Fib` struct driven by a `for` loop with a save inside,
//! and `.take(n)` / `.step_by(2)` on a range.
#[derive(ckpt::State)]
struct Fib {
    a: u64,
    b: u64,
}

impl Iterator for Fib {
    type Item = u64;
    fn next(&mut self) -> Option<u64> {
        let r = self.a;
        self.a = self.b;
        self.b += r;
        Some(r)
    }
}

#[ckpt::checkpointable]
fn main() {
    let mut evens = Vec::new();
    for f in (Fib { a: 0, b: 1 }).take(30) {
        if f % 2 == 0 {
            evens.push(f);
            ckpt::save().expect("checkpoint");
            println!("even fib {f}");
        }
    }
    let mut odd_sum = 0;
    for k in (1..20).step_by(2) {
        odd_sum += k;
        ckpt::save().expect("checkpoint");
    }
    println!("{} even fibs, odd sum {odd_sum}", evens.len());
}
